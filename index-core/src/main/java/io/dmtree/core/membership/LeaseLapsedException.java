package io.dmtree.core.membership;

/** The caller's lease is not live (suspended, lapsed or closed), so the call cannot go on. */
public class LeaseLapsedException extends MembershipException {
    private static final long serialVersionUID = 1L;
    private final transient Member member;
    private final LeaseState state;

    public LeaseLapsedException(Member member, LeaseState state) {
        super(member + ": lease is " + state.name().toLowerCase(java.util.Locale.ROOT)
                + (state == LeaseState.SUSPENDED ? " (out of touch with the coordination service)"
                : state == LeaseState.LAPSED ? "; join again for a new epoch" : ""));
        this.member = member;
        this.state = state;
    }

    public Member member() {
        return member;
    }

    public LeaseState state() {
        return state;
    }
}
