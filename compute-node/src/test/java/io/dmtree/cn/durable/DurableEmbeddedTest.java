package io.dmtree.cn.durable;

import io.dmtree.cn.DmIndex;
import io.dmtree.cn.DmTree;
import io.dmtree.cn.EmbeddedCluster;
import io.dmtree.cn.ReopenReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code DmTree.embedded().data(dir)}: an index closed and opened again, in this JVM and in another,
 * finds every write acknowledged before; one whose process was SIGKILLed mid-writes recovers what its
 * compute nodes left (half-done writes, held locks, pending splits), passes the tree checker and
 * keeps every acknowledged write; a directory of another shape is refused. Seeds print; the child
 * processes are ended by pid.
 */
class DurableEmbeddedTest {
    private static final long SEED = Long.getLong("dmtree.seed", System.nanoTime());

    @TempDir
    Path dir;

    static EmbeddedCluster.Builder builder(Path dir, int memoryNodes) {
        return DmTree.embedded().data(dir).memoryNodes(memoryNodes).regionBytes(32L << 20).chunkBytes(1L << 20)
                .lockTableBytes(64L << 10).threadsPerComputeNode(8).computeNodes(2);
    }

    @Test
    void closedAndReopenedInThisJvmItFindsEveryWrite() {
        SplittableRandom random = new SplittableRandom(SEED);
        System.out.println("DurableEmbeddedTest seed=" + SEED + " (rerun with -Ddmtree.seed=" + SEED + ")");
        java.util.TreeMap<Long, Long> model = new java.util.TreeMap<>();
        for (int life = 0; life < 3; life++) {
            try (EmbeddedCluster cluster = builder(dir, 2).start()) {
                if (life == 0) {
                    assertNull(cluster.reopened(), "a fresh directory is formatted");
                } else {
                    ReopenReport r = cluster.reopened();
                    assertTrue(r.cleanStop(), r.toString());
                    assertEquals(List.of(), r.recovered());
                    assertTrue(r.check().ok(), r.check().toString());
                    assertEquals(model.size(), r.check().keys());
                }
                DmIndex index = cluster.index(life % 2);
                for (var e : model.entrySet()) {
                    assertEquals(OptionalLong.of(e.getValue()), index.get(e.getKey()), "key " + e.getKey() + " in life " + life);
                }
                for (int i = 0; i < 3000; i++) { // enough for splits on both memory nodes
                    long key = random.nextLong(20_000);
                    if (random.nextInt(5) == 0) {
                        index.delete(key);
                        model.remove(key);
                    } else {
                        long value = random.nextLong();
                        index.put(key, value);
                        model.put(key, value);
                    }
                }
            }
        }
        try (DmIndex index = builder(dir, 2).open()) {
            assertEquals(model.size(), index.check().keys());
            List<DmIndex.LongEntry> all = index.scan(Long.MIN_VALUE, model.size() + 10);
            assertEquals(model.size(), all.size());
            for (DmIndex.LongEntry e : all) {
                assertEquals(model.get(e.key()), e.value(), "key " + e.key());
            }
        }
    }

    @Test
    void aDirectoryOfAnotherShapeOrInUseIsRefused() {
        try (EmbeddedCluster cluster = builder(dir, 2).start()) {
            cluster.index(0).put(1L, 2L);
            IllegalStateException inUse = assertThrows(IllegalStateException.class, () -> builder(dir, 2).start());
            assertTrue(inUse.getMessage().contains("is in use"), inUse.getMessage());
        }
        IllegalStateException fewer = assertThrows(IllegalStateException.class, () -> builder(dir, 1).start());
        assertTrue(fewer.getMessage().contains("memoryNodes(2)"), fewer.getMessage());
        IllegalStateException more = assertThrows(IllegalStateException.class, () -> builder(dir, 3).start());
        assertTrue(more.getMessage().contains("holds the region of memory node 0 but not of memory node 2"), more.getMessage());
        IllegalStateException size = assertThrows(IllegalStateException.class, () -> builder(dir, 2).regionBytes(64L << 20).start());
        assertTrue(size.getMessage().contains("holds a region of " + (32L << 20)), size.getMessage());
        RuntimeException widths = assertThrows(RuntimeException.class, () -> builder(dir, 2).keyBytes(16).start());
        assertTrue(widths.getMessage().contains("16") && widths.getMessage().contains("8"), widths.getMessage());
        try (DmIndex index = builder(dir, 2).open()) { // none of the refusals changed it
            assertEquals(OptionalLong.of(2L), index.get(1L));
        }
    }

    private static Process writer(Path dir, int memoryNodes, int threads, int keys, String mode) throws Exception {
        String cp = System.getProperty("surefire.test.class.path");
        cp = cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx256m",
                "-XX:+UseSerialGC", "-cp", cp, DurableWriter.class.getName(), dir.toString(), Integer.toString(memoryNodes),
                Integer.toString(threads), Integer.toString(keys), mode);
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }

    /** Reads the writer's lines on a thread of its own: acknowledged keys into {@code acked}, all into {@code log}. */
    private static Thread drain(Process p, Set<Long> acked, StringBuffer log) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String l;
                while ((l = r.readLine()) != null) {
                    if (l.startsWith("ack ")) {
                        acked.add(Long.parseLong(l.substring(4)));
                    } else {
                        log.append(l).append('\n');
                    }
                }
            } catch (java.io.IOException e) {
                // the process is gone
            }
        }, "writer-output");
        t.setDaemon(true);
        t.start();
        return t;
    }

    @Test
    void closedInAnotherJvmAndReopenedHereItFindsEveryWrite() throws Exception {
        Set<Long> acked = ConcurrentHashMap.newKeySet();
        StringBuffer log = new StringBuffer();
        Process p = writer(dir, 1, 3, 700, "clean");
        try {
            Thread out = drain(p, acked, log);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the writer did not finish:\n" + log);
            out.join(10_000);
            assertEquals(0, p.exitValue(), log.toString());
            assertTrue(log.toString().contains("closed"), log.toString());
        } finally {
            p.destroyForcibly();
        }
        assertEquals(3 * 700, acked.size());
        try (EmbeddedCluster cluster = builder(dir, 1).start()) {
            assertTrue(cluster.reopened().cleanStop());
            assertTrue(cluster.reopened().check().ok(), cluster.reopened().check().toString());
            for (long key : acked) {
                assertEquals(OptionalLong.of(key * 3 + 1), cluster.index(0).get(key), "key " + key);
            }
        }
    }

    @ParameterizedTest(name = "{0} memory node(s)")
    @ValueSource(ints = {1, 2})
    void killedMidWritesItRecoversAndKeepsEveryAcknowledgedWrite(int memoryNodes) throws Exception {
        SplittableRandom random = new SplittableRandom(SEED + memoryNodes);
        System.out.println("DurableEmbeddedTest seed=" + SEED + " (rerun with -Ddmtree.seed=" + SEED + ")");
        for (int life = 0; life < 2; life++) { // killed twice: the second restart recovers over a recovered one
            Set<Long> acked = ConcurrentHashMap.newKeySet();
            StringBuffer log = new StringBuffer();
            Process p = writer(dir, memoryNodes, 4, 5_000, "forever");
            try {
                drain(p, acked, log);
                int before = 300 + random.nextInt(3000);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (acked.size() < before) {
                    assertTrue(p.isAlive(), "the writer ended:\n" + log);
                    assertTrue(System.nanoTime() < deadline, "the writer acknowledged only " + acked.size() + ":\n" + log);
                    Thread.sleep(2);
                }
            } finally {
                p.destroyForcibly(); // SIGKILL, by its pid: mid-put, holding locks, mid-split
                assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            }
            try (EmbeddedCluster cluster = builder(dir, memoryNodes).start()) {
                ReopenReport r = cluster.reopened();
                assertNotNull(r);
                assertFalse(r.cleanStop(), r.toString());
                assertEquals(List.of(0, 1), r.recovered(), "the writer's two compute nodes, and no recoverer of before: " + r);
                assertTrue(r.check().ok(), "life " + life + ": " + r.check());
                System.out.println("killed after " + acked.size() + " acknowledged puts on " + memoryNodes
                        + " memory node(s): recovered compute nodes " + r.recovered() + "; " + r.check());
                for (long key : acked) {
                    assertEquals(OptionalLong.of(key * 3 + 1), cluster.index(0).get(key), "acknowledged key " + key);
                }
                // every lock is free again: a put into every leaf the writer touched completes, bounded
                ExecutorService ex = Executors.newFixedThreadPool(2);
                try {
                    List<Future<?>> puts = new ArrayList<>();
                    for (int t = 0; t < 2; t++) {
                        int thread = t;
                        puts.add(ex.submit(() -> {
                            for (long key : acked) {
                                if (key % 2 == thread) {
                                    cluster.index(thread).put(key, key * 3 + 1);
                                }
                            }
                        }));
                    }
                    for (Future<?> f : puts) {
                        f.get(120, TimeUnit.SECONDS);
                    }
                } finally {
                    ex.shutdownNow();
                }
                assertTrue(cluster.check().ok());
            }
        }
    }
}
