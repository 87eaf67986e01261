package io.dmtree.mn.membership;

import io.dmtree.core.membership.InProcessFenceBook;
import io.dmtree.core.membership.InProcessMembership;
import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.MembershipOptions;

import java.time.Duration;

/** The fence book contract on {@link InProcessFenceBook}: one membership and one book stand for every process. */
class InProcessFenceBookContractTest extends FenceBookContract {
    @Override
    Fixture start(Duration lease) {
        InProcessMembership m = new InProcessMembership(MembershipOptions.DEFAULTS.withLease(lease));
        InProcessFenceBook book = new InProcessFenceBook();
        Side side = new Side(m, book);
        return new Fixture() {
            @Override
            public Side connect() {
                return side;
            }

            @Override
            public Side connectFreezable() {
                return side;
            }

            @Override
            public void freeze(Side s, Lease l) {
                m.stopRenewing(l);
            }

            @Override
            public void close() {
                book.close();
                m.close();
            }
        };
    }
}
