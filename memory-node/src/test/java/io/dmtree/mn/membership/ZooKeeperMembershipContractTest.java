package io.dmtree.mn.membership;

import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.Membership;
import io.dmtree.core.membership.MembershipOptions;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The contract on {@link ZooKeeperMembership} against an {@link EmbeddedZooKeeper} with a 10 ms
 * tick: every connection is a ZooKeeper client of its own, as a process would be; a freezable one
 * reaches the server through a {@link TcpRelay} that, paused, holds every byte as a SIGSTOPped
 * process would (its renewals stop reaching the server).
 */
class ZooKeeperMembershipContractTest extends MembershipContract {
    @Override
    Fixture start(Duration lease, int computeNodes) throws Exception {
        EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(new InetSocketAddress("127.0.0.1", 0), 10);
        ZooKeeperMembershipOptions options = ZooKeeperMembershipOptions.of(zk.connectString()).withMembership(
                MembershipOptions.DEFAULTS.withLease(lease).withPools(computeNodes, MembershipOptions.DEFAULT_MEMORY_NODES)
                        .withOperationTimeout(Duration.ofSeconds(10)));
        List<AutoCloseable> opened = new ArrayList<>();
        Map<Membership, TcpRelay> relays = new IdentityHashMap<>();
        return new Fixture() {
            @Override
            public synchronized Membership connect() throws Exception {
                ZooKeeperMembership m = ZooKeeperMembership.connect(options);
                opened.add(m);
                return m;
            }

            @Override
            public synchronized Membership connectFreezable() throws Exception {
                TcpRelay relay = TcpRelay.start(new InetSocketAddress("127.0.0.1", zk.port()));
                opened.add(relay);
                ZooKeeperMembership m = ZooKeeperMembership.connect(options.withConnectString(relay.address()));
                opened.add(m);
                relays.put(m, relay);
                return m;
            }

            @Override
            public synchronized void freeze(Membership m, Lease lease) {
                relays.get(m).pause();
            }

            @Override
            public synchronized void thaw(Membership m, Lease lease) {
                relays.get(m).resume();
            }

            @Override
            public synchronized void close() throws Exception {
                for (TcpRelay r : relays.values()) {
                    r.resume();
                }
                for (int i = opened.size() - 1; i >= 0; i--) {
                    opened.get(i).close();
                }
                zk.close();
            }
        };
    }
}
