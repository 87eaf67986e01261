package io.dmtree.workloads.failure;

import io.dmtree.mn.membership.ZooKeeperEnsemble;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The coordination service fails under a running workload, real processes throughout: a single
 * ZooKeeper server SIGKILLed and started again on its data, and a 3-server ensemble losing its
 * leader. The memory node and two compute nodes (tcp, YCSB A, locked counter) hold their leases
 * through it (the lease outlasts the restart) and the workload finishes with the tree checker and
 * the exact counter. Every process is ended by pid.
 */
class CoordinationFailureTest {
    /** Long enough to cover a ZooKeeper server's restart (a JVM start) on a loaded host. */
    private static final String LEASE = "6s";

    @TempDir
    Path dir;

    private void workloadSurvives(ZooKeeperEnsemble zk, Runnable fault, String what) throws Exception {
        try (ClusterProcesses cluster = new ClusterProcesses()) {
            ClusterProcesses.Node mn = cluster.memoryNode("mn0", List.of("--id", "0", "--listen", "127.0.0.1:0", "--zk",
                    zk.connectString(), "--lease", LEASE, "--memory", "96M", "--chunk", "1M", "--lock-table", "256K",
                    "--transport", "tcp", "--dir", dir.toString()));
            String address = ClusterProcesses.field(mn.awaitLine(" ready", 5), "address");
            List<ClusterProcesses.Node> cns = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                cns.add(cluster.computeNode("cn-process-" + i, List.of("--mn", address, "--cns", "2", "-w", "A", "-r", "2000",
                        "-n", "400000", "-t", "2", "--lock", "modular", "--locked-counter", "300", "--check", "--timeout",
                        "20000", "--wait", "180")));
            }
            for (ClusterProcesses.Node cn : cns) {
                cn.awaitLine("running ", 120);
            }
            Thread.sleep(300);
            fault.run();
            StringBuilder all = new StringBuilder();
            for (ClusterProcesses.Node cn : cns) {
                int code = cn.awaitExit(240);
                all.append(cn.output());
                assertEquals(0, code, what + ": a compute node failed:\n" + cn.output() + "\nmemory node:\n" + mn.output());
            }
            assertTrue(all.toString().contains("tree checker: tree ok"), all.toString());
            assertTrue(all.toString().contains(" exact"), "locked counter:\n" + all);
            assertTrue(mn.process.isAlive(), "the memory node died:\n" + mn.output());
        }
    }

    @Test
    void zooKeeperKilledAndRestarted() throws Exception {
        try (ZooKeeperEnsemble zk = ZooKeeperEnsemble.start(1, dir.resolve("zk"), 10, ClusterProcesses.classpath(),
                Duration.ofSeconds(60))) {
            workloadSurvives(zk, () -> {
                try {
                    zk.kill(0);
                    Thread.sleep(200);
                    zk.restart(0);
                    zk.awaitServing(Duration.ofSeconds(60));
                } catch (Exception e) {
                    throw new AssertionError("ZooKeeper restart failed", e);
                }
            }, "ZooKeeper restarted");
        }
    }

    @Test
    void ensembleLosesItsLeader() throws Exception {
        try (ZooKeeperEnsemble zk = ZooKeeperEnsemble.start(3, dir.resolve("zk"), 10, ClusterProcesses.classpath(),
                Duration.ofSeconds(90))) {
            workloadSurvives(zk, () -> {
                try {
                    int leader = zk.leader();
                    assertTrue(leader >= 0, "no leader");
                    zk.kill(leader);
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }, "ensemble without its leader");
        }
    }
}
