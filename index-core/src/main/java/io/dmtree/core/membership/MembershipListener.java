package io.dmtree.core.membership;

/**
 * Hears members join and lapse. Calls come from one service thread per {@link Membership}, one at a
 * time, in the order the service saw the changes; a listener must not block (hand long work to a
 * thread of its own) and must not wait on membership calls that need that thread.
 */
public interface MembershipListener {
    /** {@code member} holds a lease (called once per incarnation this listener hears of). */
    void joined(Member member);

    /**
     * {@code member}'s lease ended, by lapse or by its holder closing it; called exactly once per
     * incarnation this listener heard join, and always after that join.
     */
    void lapsed(Member member);
}
