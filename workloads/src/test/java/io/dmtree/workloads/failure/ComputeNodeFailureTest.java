package io.dmtree.workloads.failure;

import io.dmtree.cn.history.HistoryCheck;
import io.dmtree.cn.history.HistoryFile;
import io.dmtree.lock.LockDesigns;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compute nodes that fail, as real processes on a tcp memory node whose membership is the
 * ZooKeeper server it starts itself: three compute nodes run a checked round (history-recorded
 * tree operations, each followed by an increment of {@code held} locked counters under {@code held}
 * locks taken together), and one is SIGKILLed in the middle of it, holding up to {@code held} locks
 * with the others queued behind it. For every lock design and 1, 10 and 100 held locks: the other
 * two finish, the tree checker passes, the counters are within the acknowledged and in-flight
 * increments, and the acknowledged history is linearizable per key. A compute node SIGSTOPped past
 * its lease and resumed once the others went on without it has none of its writes invoked after
 * the resume take effect (checked from the history), says it is fenced, and exits with code 3.
 * Seeds print; every process is ended by pid.
 */
class ComputeNodeFailureTest {
    private static final long SEED = Long.getLong("dmtree.seed", System.nanoTime());
    /** How long the victim's increments hold their locks: far longer than it takes to see it and kill it. */
    private static final long HOLD_MICROS = 250_000;
    /** The lease of these clusters: long enough that a loaded 2-core host never lapses a live member. */
    private static final String LEASE = "2s";

    @TempDir
    Path dir;

    static Stream<Arguments> designsAndHeld() {
        System.out.println("ComputeNodeFailureTest seed=" + SEED + " (rerun with -Ddmtree.seed=" + SEED + ")");
        List<Arguments> a = new ArrayList<>();
        for (String d : LockDesigns.names()) {
            for (int held : new int[]{1, 10, 100}) {
                a.add(Arguments.of(d, held));
            }
        }
        return a.stream();
    }

    private static List<String> memoryNodeArgs(Path dir) {
        return List.of("--id", "0", "--listen", "127.0.0.1:0", "--zk-listen", "127.0.0.1:0", "--lease", LEASE, "--memory",
                "96M", "--chunk", "1M", "--lock-table", "256K", "--transport", "tcp", "--dir", dir.toString());
    }

    private static List<String> computeNodeArgs(String mn, String design, int held, int ops, Path history, String run,
                                                long holdMicros) {
        return List.of("--counter-hold-us", Long.toString(holdMicros), "--mn", mn, "--cns", "3", "--run", run, "-r", "300", "-n", "300", "-t", "2", "--lock", design,
                "--checked-ops", Integer.toString(ops), "--checked-keys", "48", "--counter-locks", Integer.toString(held),
                "--history", history.toString(), "--check", "--timeout", "20000", "--wait", "120");
    }

    /** A memory node and three compute nodes in a checked round of {@code ops} per thread under {@code held} locks. */
    private record Round(ClusterProcesses.Node memoryNode, List<ClusterProcesses.Node> computeNodes, List<Path> histories) {
    }

    /** Starts the round; compute node process {@code slow} (or none: -1) holds every increment's locks {@link #HOLD_MICROS} longer. */
    private Round startRound(ClusterProcesses cluster, String design, int held, int ops, String run, int slow)
            throws Exception {
        ClusterProcesses.Node mn = cluster.memoryNode("mn0", memoryNodeArgs(dir));
        String address = ClusterProcesses.field(mn.awaitLine(" ready", 5), "address");
        List<ClusterProcesses.Node> cns = new ArrayList<>();
        List<Path> histories = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Path h = dir.resolve(run + "-history-" + i);
            histories.add(h);
            cns.add(cluster.computeNode("cn-process-" + i, computeNodeArgs(address, design, held, ops, h, run,
                    i == slow ? HOLD_MICROS : 0)));
        }
        for (ClusterProcesses.Node cn : cns) {
            cn.awaitLine("checked round started", 120);
        }
        return new Round(mn, cns, histories);
    }

    @ParameterizedTest(name = "{0}, {1} held")
    @MethodSource("designsAndHeld")
    void killedWhileHoldingLocks(String design, int held) throws Exception {
        SplittableRandom random = new SplittableRandom(SEED ^ design.hashCode() ^ held);
        try (ClusterProcesses cluster = new ClusterProcesses()) {
            int victim = random.nextInt(3);
            Round round = startRound(cluster, design, held, 200, "kill", victim);
            ClusterProcesses.Node mn = round.memoryNode();
            List<ClusterProcesses.Node> cns = round.computeNodes();
            List<Path> histories = round.histories();
            Thread.sleep(random.nextInt(200));
            // kill it while one of its threads holds every counter lock (its increments dwell there)
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (HistoryFile.read(histories.get(victim)).holdingAtEnd().isEmpty()) {
                assertTrue(System.nanoTime() < deadline, "the victim never held its counter locks");
                Thread.sleep(1);
            }
            long killed = System.nanoTime();
            cns.get(victim).kill();
            StringBuilder outputs = new StringBuilder();
            boolean reported = false;
            int[] codes = new int[3];
            for (int i = 0; i < 3; i++) {
                if (i != victim) {
                    codes[i] = cns.get(i).awaitExit(150);
                    String out = cns.get(i).output();
                    outputs.append("--- survivor process ").append(i).append(" (exit ").append(codes[i]).append(")\n")
                            .append(out);
                    reported |= out.contains("final state written");
                }
            }
            for (int i = 0; i < 3; i++) {
                assertEquals(0, codes[i], "survivor process " + i + " failed (seed " + SEED + "):\n" + outputs
                        + "--- victim process " + victim + "\n" + cns.get(victim).output() + "--- memory node\n" + mn.output());
            }
            assertTrue(reported, "no survivor wrote the final state:\n" + outputs);
            assertTrue(outputs.toString().contains("tree checker: tree ok"), "tree checker:\n" + outputs);
            assertTrue(outputs.toString().contains("), leaked 0") && !outputs.toString().contains("region WRONG"),
                    "the victim's memory was not all reclaimed:\n" + outputs);
            List<HistoryFile> files = new ArrayList<>();
            for (Path h : histories) {
                files.add(HistoryFile.read(h));
            }
            assertFalse(files.get(victim).done(), "the victim finished its round before the kill; nothing was tested");
            assertFalse(files.get(victim).holdingAtEnd().isEmpty(), "the victim did not die holding its counter locks");
            HistoryCheck.Result r = new HistoryCheck(files).run();
            long next = Long.MAX_VALUE;
            for (int i = 0; i < 3; i++) {
                next = i == victim ? next : Math.min(next, files.get(i).firstIncrementAfter(killed));
            }
            System.out.printf(java.util.Locale.ROOT, "%s held %d: victim cn %d, kill to the next increment under all %d counter"
                            + " locks %.0f ms (lease %s; measured, one sample); %s%n", design, held,
                    files.get(victim).computeNode(), held, (next - killed) / 1e6, LEASE, r.summary());
            assertTrue(r.ok(), r.violations().toString());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("zombieDesigns")
    void zombieIsFencedAndNothingItWritesAfterTheFenceShows(String design) throws Exception {
        try (ClusterProcesses cluster = new ClusterProcesses()) {
            Round round = startRound(cluster, design, 3, 4000, "zombie", -1);
            List<ClusterProcesses.Node> cns = round.computeNodes();
            List<Path> histories = round.histories();
            Thread.sleep(150);
            ClusterProcesses.Node zombie = cns.get(2);
            zombie.signal("STOP");
            HistoryFile stopped = HistoryFile.read(histories.get(2));
            assertFalse(stopped.done(), "the zombie finished its round before it was stopped; nothing was tested");
            // the others fence and recover it once its lease lapsed
            String recovered = "recovered cn " + stopped.computeNode() + " epoch " + stopped.epoch();
            long deadline = System.nanoTime() + 90_000_000_000L;
            while (!cns.get(0).output().contains(recovered) && !cns.get(1).output().contains(recovered)) {
                assertTrue(System.nanoTime() < deadline, "nobody recovered the stopped compute node:\n" + cns.get(0).output()
                        + cns.get(1).output());
                Thread.sleep(20);
            }
            long resumed = System.nanoTime();
            zombie.signal("CONT");
            int code = zombie.awaitExit(60);
            String out = zombie.output();
            assertEquals(3, code, "the zombie must exit with code 3 (fenced):\n" + out);
            assertTrue(out.contains("is fenced"), out);
            for (int i = 0; i < 2; i++) {
                assertEquals(0, cns.get(i).awaitExit(150), cns.get(i).output());
            }
            List<HistoryFile> files = new ArrayList<>();
            for (Path h : histories) {
                files.add(HistoryFile.read(h));
            }
            HistoryCheck.Result r = new HistoryCheck(files).noEffectAfter(files.get(2).computeNode(), resumed).run();
            System.out.println("zombie " + design + ": " + r.summary());
            assertTrue(r.ok(), r.violations().toString());
        }
    }

    static Stream<String> zombieDesigns() {
        return Stream.of("modular", "cas-spin");
    }
}
