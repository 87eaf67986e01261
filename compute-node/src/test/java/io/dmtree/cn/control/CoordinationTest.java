package io.dmtree.cn.control;

import io.dmtree.core.membership.ClusterConfiguration;
import io.dmtree.core.membership.MembershipOptions;
import io.dmtree.mn.membership.EmbeddedZooKeeper;
import io.dmtree.mn.membership.ZooKeeperMembership;
import io.dmtree.mn.membership.ZooKeeperMembershipOptions;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

/** Reading the coordination address memory node 0 describes, and the cluster's lease length. */
class CoordinationTest {
    @Test
    void zooKeeperAddressesParseOrAreRefusedNamingThem() {
        Coordination.ZooKeeperAddress a = Coordination.ZooKeeperAddress.parse("zk:127.0.0.1:2181,10.0.0.2:2182/dmtree/run1");
        assertEquals("127.0.0.1:2181,10.0.0.2:2182", a.connectString());
        assertEquals("/dmtree/run1", a.root());
        assertEquals(ZooKeeperMembershipOptions.DEFAULT_ROOT, Coordination.ZooKeeperAddress.parse("zk:h:1").root());
        ControlException scheme = assertThrows(ControlException.class,
                () -> Coordination.ZooKeeperAddress.parse("etcd:h:1/x"));
        assertTrue(scheme.getMessage().contains("etcd:h:1/x"), scheme.getMessage());
        ControlException port = assertThrows(ControlException.class,
                () -> Coordination.ZooKeeperAddress.parse("zk:h:99999/x"));
        assertTrue(port.getMessage().contains("h:99999"), port.getMessage());
    }

    @Test
    void theLeaseLengthComesFromTheClusterConfiguration() {
        assertEquals(Duration.ofMillis(MembershipOptions.DEFAULT_PROCESS_LEASE_MILLIS),
                Coordination.leaseOf(ClusterConfiguration.EMPTY, "x"));
        Map<String, String> e = new TreeMap<>(Map.of(Coordination.LEASE_MILLIS_KEY, "250"));
        assertEquals(Duration.ofMillis(250), Coordination.leaseOf(new ClusterConfiguration(1, new TreeMap<>(e)), "x"));
        e.put(Coordination.LEASE_MILLIS_KEY, "soon");
        ControlException bad = assertThrows(ControlException.class,
                () -> Coordination.leaseOf(new ClusterConfiguration(2, new TreeMap<>(e)), "zk:h:1/r"));
        assertTrue(bad.getMessage().contains("soon") && bad.getMessage().contains("zk:h:1/r"), bad.getMessage());
    }

    @Test
    void connectingReadsTheLeaseFromTheConfiguration() throws Exception {
        try (EmbeddedZooKeeper zk = EmbeddedZooKeeper.start(new InetSocketAddress("127.0.0.1", 0),
                EmbeddedZooKeeper.DEFAULT_TICK_MILLIS)) {
            try (ZooKeeperMembership mn0 = ZooKeeperMembership.connect(ZooKeeperMembershipOptions.of(zk.connectString()))) {
                ClusterConfiguration c = mn0.configuration();
                mn0.updateConfiguration(c.version(), c.with(Coordination.LEASE_MILLIS_KEY, "300"));
            }
            try (Coordination c = Coordination.connect("zk:" + zk.connectString() + "/dmtree", 5_000)) {
                assertEquals(Duration.ofMillis(300), c.membership().leaseLength());
                assertTrue(c.book().records().isEmpty());
            }
        }
    }
}
