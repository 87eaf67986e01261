package io.dmtree.mn.membership;

import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.membership.Membership;
import io.dmtree.core.membership.MembershipOptions;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Prints what keeping leases costs: ZooKeeper requests and bytes on the wire per member per second,
 * for a lease length, measured (not modelled) on an {@link EmbeddedZooKeeper}. Members join through
 * a {@link TcpRelay} each, which counts the TCP payload bytes both ways; the server counts the
 * packets it receives and sends. After the joins settle, only renewals flow, so the window's
 * counts are renewal traffic.
 *
 * <p>{@code java -cp CLASSPATH io.dmtree.mn.membership.LeaseTrafficBench [LEASE_MS [MEMBERS [SECONDS]]]}
 * (defaults: the default lease, 8 members, 5 s).
 */
public final class LeaseTrafficBench {
    private LeaseTrafficBench() {
    }

    public static void main(String[] args) throws Exception {
        long leaseMs = args.length > 0 ? Long.parseLong(args[0]) : MembershipOptions.DEFAULT_LEASE_MILLIS;
        int members = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        if (leaseMs < 20 || members < 1 || members > MembershipOptions.DEFAULT_COMPUTE_NODES || seconds < 1) {
            System.err.println("usage: LeaseTrafficBench [LEASE_MS >= 20 [MEMBERS 1..16 [SECONDS >= 1]]]");
            System.exit(2);
        }
        MembershipOptions mo = MembershipOptions.DEFAULTS.withLease(Duration.ofMillis(leaseMs));
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(new InetSocketAddress("127.0.0.1", 0),
                EmbeddedZooKeeper.DEFAULT_TICK_MILLIS)) {
            List<TcpRelay> relays = new ArrayList<>();
            List<Membership> ms = new ArrayList<>();
            List<Lease> leases = new ArrayList<>();
            try {
                for (int i = 0; i < members; i++) {
                    TcpRelay relay = TcpRelay.start(new InetSocketAddress("127.0.0.1", zk.port()));
                    relays.add(relay);
                    ZooKeeperMembership m = ZooKeeperMembership.connect(ZooKeeperMembershipOptions.of(relay.address())
                            .withMembership(mo));
                    ms.add(m);
                    leases.add(m.join(MemberKind.COMPUTE_NODE, i, "", Duration.ofSeconds(10)));
                }
                Thread.sleep(Math.max(500, 5 * leaseMs)); // joins and their replies settle
                // each relay carries one member's lease session and its process's watching session;
                // the watching session (30 s timeout) pings every 10 s, so it is a small part of the window
                long in0 = zk.packetsReceived();
                long out0 = zk.packetsSent();
                long up0 = 0;
                long down0 = 0;
                for (TcpRelay r : relays) {
                    up0 += r.bytesToServer();
                    down0 += r.bytesToClient();
                }
                long t0 = System.nanoTime();
                Thread.sleep(seconds * 1000L);
                double secs = (System.nanoTime() - t0) / 1e9;
                long up = -up0;
                long down = -down0;
                for (TcpRelay r : relays) {
                    up += r.bytesToServer();
                    down += r.bytesToClient();
                }
                long in = zk.packetsReceived() - in0;
                long out = zk.packetsSent() - out0;
                int live = 0;
                for (Lease l : leases) {
                    live += l.isLive() ? 1 : 0;
                }
                double per = members * secs;
                System.out.printf(Locale.ROOT, "lease %d ms (granted %d ms, tick %d ms), %d members, %.1f s, %d still live%n",
                        leaseMs, ms.get(0).leaseLength().toMillis(), zk.tickMillis(), members, secs, live);
                System.out.printf(Locale.ROOT, "per member per second: %.1f ZooKeeper requests, %.1f replies, "
                                + "%.0f bytes to ZooKeeper, %.0f bytes back (TCP payload, measured)%n",
                        in / per, out / per, up / per, down / per);
                System.out.printf(Locale.ROOT, "modelled for comparison: a ZooKeeper client pings after a third of the"
                        + " session idle: %.1f pings per member per second%n", 3000.0 / ms.get(0).leaseLength().toMillis());
                if (live < members) {
                    String load = "?";
                    try {
                        load = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ")[0];
                    } catch (java.io.IOException | RuntimeException e) {
                        // not Linux
                    }
                    System.out.printf(Locale.ROOT, "WARNING: %d of %d leases lapsed during the window (load average %s):"
                            + " this host is too busy for a %d ms lease, and the figures above undercount%n",
                            members - live, members, load, leaseMs);
                }
            } finally {
                for (Lease l : leases) {
                    l.close();
                }
                for (Membership m : ms) {
                    m.close();
                }
                for (TcpRelay r : relays) {
                    r.close();
                }
            }
        }
    }
}
