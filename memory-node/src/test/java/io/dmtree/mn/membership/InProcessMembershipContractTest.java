package io.dmtree.mn.membership;

import io.dmtree.core.membership.InProcessMembership;
import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.Membership;
import io.dmtree.core.membership.MembershipOptions;

import java.time.Duration;

/** The contract on {@link InProcessMembership}: one shared object stands for every process. */
class InProcessMembershipContractTest extends MembershipContract {
    @Override
    Fixture start(Duration lease, int computeNodes) {
        InProcessMembership m = new InProcessMembership(MembershipOptions.DEFAULTS.withLease(lease)
                .withPools(computeNodes, MembershipOptions.DEFAULT_MEMORY_NODES));
        return new Fixture() {
            @Override
            public Membership connect() {
                return m;
            }

            @Override
            public Membership connectFreezable() {
                return m;
            }

            @Override
            public void freeze(Membership via, Lease lease) {
                m.stopRenewing(lease);
            }

            @Override
            public void thaw(Membership via, Lease lease) {
                m.resumeRenewing(lease);
            }

            @Override
            public void close() {
                m.close();
            }
        };
    }
}
