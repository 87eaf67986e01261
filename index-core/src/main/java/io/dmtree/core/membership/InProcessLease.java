package io.dmtree.core.membership;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Consumer;

/** A lease of {@link InProcessMembership}: renewed while open unless its holder was made to stop. */
final class InProcessLease implements Lease {
    final InProcessMembership owner;
    final LeaseStatus status = new LeaseStatus();
    private final Member member;
    /** The pending lapse after {@link InProcessMembership#stopRenewing}; guarded by the owner. */
    ScheduledFuture<?> expiry;

    InProcessLease(InProcessMembership owner, Member member) {
        this.owner = owner;
        this.member = member;
    }

    @Override
    public Member member() {
        return member;
    }

    @Override
    public LeaseState state() {
        return status.state();
    }

    @Override
    public void onEnd(Consumer<LeaseState> callback) {
        status.onEnd(callback);
    }

    @Override
    public LeaseState awaitEnd(Duration timeout) throws InterruptedException {
        return status.awaitEnd(timeout);
    }

    @Override
    public void close() {
        owner.end(this, LeaseState.CLOSED);
    }

    @Override
    public String toString() {
        return "lease of " + member + " (" + status.state() + ")";
    }
}
