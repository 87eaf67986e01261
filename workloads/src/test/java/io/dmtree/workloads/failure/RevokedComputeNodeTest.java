package io.dmtree.workloads.failure;

import io.dmtree.cn.control.ClusterAdmin;
import io.dmtree.cn.history.HistoryCheck;
import io.dmtree.cn.history.HistoryFile;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.HostPort;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A member revoked mid-run by the operator: three compute nodes, each a real process, run a checked
 * round (history-recorded tree inserts, updates and reads, each followed by an increment of locked
 * counters under locks taken together) against a tcp memory node with a cluster secret and its own
 * ZooKeeper; while one of them holds its counter locks (and may hold leaf locks of its tree
 * operations), this JVM revokes it through {@link ClusterAdmin#revoke}, the operator's path
 * behind {@code dmtree revoke}. Its next verb fails as fenced and it exits with code 3; the other
 * two recover its locks and memory by the usual recovery of a lapsed member and finish; the tree
 * checker passes with 0 leaked bytes; the acknowledged history is linearizable per key, and none
 * of the revoked member's writes invoked after the revocation returned takes effect. Seeded
 * ({@code dmtree.seed}, printed), bounded in time; every process is ended by pid.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class RevokedComputeNodeTest {
    private static final long SEED = Long.getLong("dmtree.seed", System.nanoTime());
    /** How long the victim's increments hold their locks: long enough to revoke it while it holds them. */
    private static final long HOLD_MICROS = 100_000;

    @TempDir
    Path dir;

    @Test
    void aMemberRevokedMidRunFailsAtItsNextVerbAndTheOthersFinishClean() throws Exception {
        System.out.println("RevokedComputeNodeTest seed=" + SEED + " (rerun with -Ddmtree.seed=" + SEED + ")");
        SplittableRandom random = new SplittableRandom(SEED);
        try (ClusterProcesses cluster = new ClusterProcesses()) {
            ClusterProcesses.Node mn = cluster.memoryNode("mn0", List.of("--id", "0", "--listen", "127.0.0.1:0",
                    "--zk-listen", "127.0.0.1:0", "--lease", "2s", "--memory", "96M", "--chunk", "1M", "--lock-table", "256K",
                    "--transport", "tcp", "--dir", dir.toString()));
            String ready = mn.awaitLine(" ready", 5);
            String address = ClusterProcesses.field(ready, "address");
            ClusterSecret secret = ClusterSecret.load(Path.of(ClusterProcesses.field(ready, "secret")));
            int victim = random.nextInt(3);
            List<ClusterProcesses.Node> cns = new ArrayList<>();
            List<Path> histories = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Path h = dir.resolve("revoke-history-" + i);
                histories.add(h);
                cns.add(cluster.computeNode("cn-process-" + i, List.of("--counter-hold-us",
                        Long.toString(i == victim ? HOLD_MICROS : 0), "--mn", address, "--cns", "3", "--run", "revoke",
                        "-r", "300", "-n", "300", "-t", "2", "--lock", "modular", "--checked-ops", "2000",
                        "--checked-keys", "48", "--counter-locks", "3", "--history", h.toString(), "--check",
                        "--timeout", "20000", "--wait", "120")));
            }
            for (ClusterProcesses.Node cn : cns) {
                cn.awaitLine("checked round started", 120);
            }
            Thread.sleep(random.nextInt(200));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (HistoryFile.read(histories.get(victim)).holdingAtEnd().isEmpty()) {
                assertTrue(System.nanoTime() < deadline, "the victim never held its counter locks");
                Thread.sleep(1);
            }
            HistoryFile before = HistoryFile.read(histories.get(victim));
            int victimId = before.computeNode();
            ClusterAdmin.Revocation revocation;
            try (ClusterAdmin admin = ClusterAdmin.connect(HostPort.parse("address", address), 10_000, secret)) {
                revocation = admin.revoke(victimId, Duration.ofSeconds(30));
            }
            long revoked = System.nanoTime();
            assertEquals(victimId, revocation.member().id().id());
            assertTrue(revocation.fencedBy().contains(0), revocation.toString());

            int code = cns.get(victim).awaitExit(60);
            String victimOut = cns.get(victim).output();
            assertEquals(3, code, "the revoked compute node must exit with code 3 (fenced):\n" + victimOut);
            assertTrue(victimOut.contains("is fenced"), victimOut);
            StringBuilder outputs = new StringBuilder();
            for (int i = 0; i < 3; i++) {
                if (i != victim) {
                    int c = cns.get(i).awaitExit(150);
                    String out = cns.get(i).output();
                    outputs.append("--- survivor process ").append(i).append(" (exit ").append(c).append(")\n").append(out);
                    assertEquals(0, c, "survivor process " + i + " failed (seed " + SEED + "):\n" + out
                            + "--- revoked process\n" + victimOut + "--- memory node\n" + mn.output());
                }
            }
            String all = outputs.toString();
            assertTrue(all.contains("recovered cn " + victimId + " epoch " + revocation.member().epoch()),
                    "nobody recovered the revoked compute node:\n" + all);
            assertTrue(all.contains("final state written"), "no survivor wrote the final state:\n" + all);
            assertTrue(all.contains("tree checker: tree ok"), "tree checker:\n" + all);
            assertTrue(all.contains("), leaked 0") && !all.contains("region WRONG"),
                    "the revoked member's memory was not all reclaimed:\n" + all);
            List<HistoryFile> files = new ArrayList<>();
            for (Path h : histories) {
                files.add(HistoryFile.read(h));
            }
            assertFalse(files.get(victim).done(), "the victim finished its round before the revocation; nothing was tested");
            HistoryCheck.Result r = new HistoryCheck(files).noEffectAfter(victimId, revoked).run();
            System.out.printf(java.util.Locale.ROOT, "revoked cn %d epoch %d mid-run: fenced on memory nodes %s in %.1f ms;"
                            + " %s%n", victimId, revocation.member().epoch(), revocation.fencedBy(), revocation.nanos() / 1e6,
                    r.summary());
            assertTrue(r.ok(), r.violations().toString());
            assertTrue(mn.process.isAlive(), mn.output());
        }
    }
}
