package io.dmtree.mn.membership;

import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.MembershipOptions;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The fence book contract on {@link ZooKeeperFenceBook} against an {@link EmbeddedZooKeeper}: each
 * side is a membership connection and a book of its own, as a process would have; a freezable one
 * reaches the server through a {@link TcpRelay} that, paused, holds every byte (its lease stops
 * renewing, as a SIGSTOPped claimer's would).
 */
class ZooKeeperFenceBookContractTest extends FenceBookContract {
    @Override
    Fixture start(Duration lease) throws Exception {
        EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(new InetSocketAddress("127.0.0.1", 0), 10);
        ZooKeeperMembershipOptions options = ZooKeeperMembershipOptions.of(zk.connectString()).withMembership(
                MembershipOptions.DEFAULTS.withLease(lease).withOperationTimeout(Duration.ofSeconds(10)));
        List<AutoCloseable> opened = new ArrayList<>();
        Map<Side, TcpRelay> relays = new IdentityHashMap<>();
        return new Fixture() {
            @Override
            public synchronized Side connect() throws Exception {
                ZooKeeperMembership m = ZooKeeperMembership.connect(options);
                opened.add(m);
                ZooKeeperFenceBook book = new ZooKeeperFenceBook(m);
                opened.add(book);
                return new Side(m, book);
            }

            @Override
            public synchronized Side connectFreezable() throws Exception {
                TcpRelay relay = TcpRelay.start(new InetSocketAddress("127.0.0.1", zk.port()));
                opened.add(relay);
                ZooKeeperMembership m = ZooKeeperMembership.connect(options.withConnectString(relay.address()));
                opened.add(m);
                ZooKeeperFenceBook book = new ZooKeeperFenceBook(m);
                opened.add(book);
                Side s = new Side(m, book);
                relays.put(s, relay);
                return s;
            }

            @Override
            public synchronized void freeze(Side s, Lease l) {
                relays.get(s).pause();
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
