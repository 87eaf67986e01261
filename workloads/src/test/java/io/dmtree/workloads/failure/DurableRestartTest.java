package io.dmtree.workloads.failure;

import io.dmtree.cn.history.HistoryCheck;
import io.dmtree.cn.history.HistoryFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Durable regions with real processes: a memory node with {@code --data} (and its own ZooKeeper,
 * whose data lives there too) and two compute nodes in a checked round (history-recorded tree
 * operations and locked-counter increments). Every process is then stopped, cleanly (the compute
 * nodes finish, the memory node gets SIGTERM) or by SIGKILL mid-round (in a seeded random order),
 * and the memory node is started again on its data directory. A compute node joining the restarted
 * cluster waits for the earlier life's compute nodes to be recovered and runs the tree checker
 * (printed); it reads every key of the round, which must be linearizable with the round's
 * acknowledged history as a read after everything (so no acknowledged write is lost), writes every
 * key again (no lock of the earlier life is left held) and checks the tree. Wrong and damaged data
 * directories are refused with a clear error. Seeds print; every process is ended by pid.
 */
class DurableRestartTest {
    private static final long SEED = Long.getLong("dmtree.seed", System.nanoTime());
    private static final String LEASE = "2s";

    @TempDir
    Path dir;

    private List<String> memoryNodeArgs(String transport, Path data, String memory) {
        return List.of("--id", "0", "--listen", "127.0.0.1:0", "--zk-listen", "127.0.0.1:0", "--lease", LEASE, "--memory",
                memory, "--chunk", "1M", "--lock-table", "256K", "--transport", transport, "--dir", dir.toString(),
                "--data", data.toString());
    }

    private static List<String> checkedRound(String mn, Path history, int ops, long holdMicros) {
        return List.of("--counter-hold-us", Long.toString(holdMicros), "--mn", mn, "--cns", "2", "--run", "durable", "-r", "200", "-n", "200", "-t", "2", "--lock", "modular",
                "--checked-ops", Integer.toString(ops), "--checked-keys", "32", "--counter-locks", "2", "--history", history.toString(),
                "--check", "--timeout", "20000", "--wait", "120");
    }

    /** SIGTERM, and the exit of a JVM that ran its shutdown hooks on it (143); the restart tells whether it stopped cleanly. */
    private static void stop(ClusterProcesses.Node mn) throws Exception {
        mn.signal("TERM");
        int code = mn.awaitExit(60);
        assertTrue(code == 0 || code == 143, "exit " + code + ":\n" + mn.output());
    }

    private static String address(ClusterProcesses.Node mn) throws InterruptedException {
        return ClusterProcesses.field(mn.awaitLine(" ready", 5), "address");
    }

    @ParameterizedTest(name = "{0}, stopped {1}")
    @CsvSource({"tcp, cleanly", "tcp, by SIGKILL", "shm, cleanly", "shm, by SIGKILL"})
    void everyAcknowledgedWriteSurvivesAStopOfEveryProcess(String transport, String how) throws Exception {
        boolean kill = how.contains("SIGKILL");
        SplittableRandom random = new SplittableRandom(SEED ^ transport.hashCode() ^ how.hashCode());
        System.out.println("DurableRestartTest seed=" + SEED + " (rerun with -Ddmtree.seed=" + SEED + ")");
        Path data = dir.resolve("data");
        try (ClusterProcesses cluster = new ClusterProcesses()) {
            ClusterProcesses.Node mn = cluster.memoryNode("mn0", memoryNodeArgs(transport, data, "64M"));
            String address = address(mn);
            assertFalse(mn.output().contains("restored"), "a fresh data directory is formatted:\n" + mn.output());
            List<ClusterProcesses.Node> cns = new ArrayList<>();
            List<Path> histories = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                Path h = dir.resolve("history-" + i);
                histories.add(h);
                // killed: compute node 0 dwells in its increments, so it dies holding the counter locks
                cns.add(cluster.computeNode("cn-" + i, checkedRound(address, h, kill ? 600 : 150, kill && i == 0 ? 20_000 : 0)));
            }
            if (kill) {
                for (ClusterProcesses.Node cn : cns) {
                    cn.awaitLine("checked round started", 120);
                }
                long deadline = System.nanoTime() + 60_000_000_000L;
                int before = 100 + random.nextInt(200); // operations made before the kill
                while (HistoryFile.read(histories.get(0)).ops().size() + HistoryFile.read(histories.get(1)).ops().size() < before) {
                    assertTrue(System.nanoTime() < deadline, "the round made fewer than " + before + " operations");
                    Thread.sleep(5);
                }
                while (HistoryFile.read(histories.get(0)).holdingAtEnd().isEmpty()) {
                    assertTrue(System.nanoTime() < deadline, "compute node 0 never held its counter locks");
                    Thread.sleep(1);
                }
                List<ClusterProcesses.Node> all = new ArrayList<>(cns);
                all.add(mn);
                Collections.shuffle(all, new java.util.Random(random.nextLong()));
                for (ClusterProcesses.Node n : all) {
                    n.kill();
                }
            } else {
                for (ClusterProcesses.Node cn : cns) {
                    assertEquals(0, cn.awaitExit(180), cn.output());
                }
                stop(mn);
            }
            List<HistoryFile> files = new ArrayList<>();
            TreeSet<Long> keys = new TreeSet<>();
            for (Path h : histories) {
                HistoryFile f = HistoryFile.read(h);
                files.add(f);
                f.ops().forEach(op -> keys.add(op.key()));
            }
            if (kill) {
                assertFalse(files.get(0).done() && files.get(1).done(), "both finished before the kill; nothing was tested");
            }
            assertFalse(keys.isEmpty(), "the round made no operation");

            ClusterProcesses.Node again = cluster.memoryNode("mn0-restarted", memoryNodeArgs(transport, data, "64M"));
            String restored = again.awaitLine("restored", 5);
            assertTrue(restored.contains(kill ? "previous stop unclean" : "previous stop clean"), restored);
            assertTrue(restored.contains("index present"), restored);
            String address2 = address(again);

            ClusterProcesses.Node reader = cluster.computeNode("cn-after", List.of("--mn", address2, "--serve",
                    "--timeout", "20000"));
            reader.awaitLine("serving", 150);
            String check = reader.awaitLine("tree checker", 5);
            assertTrue(check.contains("index restored from durable regions") && check.contains("tree checker passed"),
                    check + "\n" + reader.output() + "\n--- memory node\n" + again.output());
            StringBuilder finals = new StringBuilder("# dmtree history v1 cn=99 epoch=1\n");
            for (long key : keys) {
                String v = reader.ask("get " + key, 30);
                assertTrue(v.equals("absent") || v.matches("-?\\d+"), "get " + key + ": " + v);
                finals.append("F ").append(key).append(' ').append(v).append('\n');
            }
            Path after = dir.resolve("history-after-restart");
            Files.writeString(after, finals.toString(), StandardCharsets.US_ASCII);
            List<HistoryFile> all = new ArrayList<>(files);
            all.add(HistoryFile.read(after));
            HistoryCheck.Result r = new HistoryCheck(all).run();
            System.out.println("durable restart, " + transport + ", stopped " + how + ": " + r.summary() + "\n  " + restored
                    + "\n  " + check);
            assertTrue(r.ok(), "seed " + SEED + ": " + r.violations());
            long n = 0;
            for (long key : keys) { // every leaf's lock is free again: a lock left held would stall these
                assertEquals("ok", reader.ask("put " + key + " " + (n + 1), 60));
                assertEquals(Long.toString(n + 1), reader.ask("get " + key, 30));
                n++;
            }
            String tree = reader.ask("check", 60);
            assertTrue(tree.startsWith("tree ok"), tree);
            assertEquals("bye", reader.ask("quit", 30));
            assertEquals(0, reader.awaitExit(60), reader.output());
            stop(again);
        }
    }

    @Test
    void aDataDirectoryOfAnotherSizeOrWithADamagedHeaderIsRefused() throws Exception {
        Path data = dir.resolve("data");
        try (ClusterProcesses cluster = new ClusterProcesses()) {
            ClusterProcesses.Node mn = cluster.memoryNode("mn0", memoryNodeArgs("tcp", data, "32M"));
            stop(mn);

            ClusterProcesses.Node bigger = cluster.java("mn0-bigger", io.dmtree.mn.MemoryNodeCommand.class.getName(),
                    memoryNodeArgs("tcp", data, "64M"));
            assertEquals(1, bigger.awaitExit(60), bigger.output());
            assertTrue(bigger.output().contains("holds a region of " + (32L << 20) + " bytes")
                    && bigger.output().contains("--memory " + (32L << 20)), bigger.output());

            try (RandomAccessFile raf = new RandomAccessFile(data.resolve("dmtree-mn0.data").toFile(), "rw")) {
                raf.seek(17);
                raf.write(0x77); // the chunk size word, one byte
            }
            ClusterProcesses.Node damaged = cluster.java("mn0-damaged", io.dmtree.mn.MemoryNodeCommand.class.getName(),
                    memoryNodeArgs("tcp", data, "32M"));
            assertEquals(1, damaged.awaitExit(60), damaged.output());
            assertTrue(damaged.output().contains("damaged header"), damaged.output());
        }
    }
}
