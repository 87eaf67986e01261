package io.dmtree.mn.membership;

import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.LeaseState;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.membership.Membership;
import io.dmtree.core.membership.MembershipOptions;

import java.time.Duration;

/**
 * A member as a process of its own, for tests that stop it with SIGSTOP: joins as a compute node,
 * prints {@code JOINED id epoch}; whenever its lease ends prints {@code LAPSED epoch state} and
 * joins the same id again. Exits after {@code seconds} (a bound, in case its parent dies).
 * Arguments: connect string, lease ms, seconds.
 */
public final class MemberProcess {
    private MemberProcess() {
    }

    public static void main(String[] args) throws Exception {
        String connect = args[0];
        Duration lease = Duration.ofMillis(Long.parseLong(args[1]));
        long deadline = System.nanoTime() + Duration.ofSeconds(Long.parseLong(args[2])).toNanos();
        try (Membership m = ZooKeeperMembership.connect(ZooKeeperMembershipOptions.of(connect)
                .withMembership(MembershipOptions.DEFAULTS.withLease(lease)))) {
            int id = Membership.ANY_ID;
            while (System.nanoTime() < deadline) {
                Lease l = m.join(MemberKind.COMPUTE_NODE, id, "proc:" + ProcessHandle.current().pid(), Duration.ofSeconds(30));
                id = l.member().id().id();
                System.out.println("JOINED " + id + " " + l.member().epoch());
                System.out.flush();
                LeaseState s;
                do {
                    s = l.awaitEnd(Duration.ofMillis(200));
                } while (!s.ended() && System.nanoTime() < deadline);
                if (s.ended()) {
                    System.out.println("LAPSED " + l.member().epoch() + " " + s);
                    System.out.flush();
                }
            }
        }
    }
}
