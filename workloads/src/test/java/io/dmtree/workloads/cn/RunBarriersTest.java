package io.dmtree.workloads.cn;

import io.dmtree.cn.control.BarrierRelease;
import io.dmtree.cn.control.ControlException;
import io.dmtree.core.wire.ControlFrame;
import io.dmtree.core.wire.ErrorCode;
import io.dmtree.mn.MemoryNode;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.ControlPlane;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The barriers of a multi-process run against memory node 0's real control plane, in one JVM: a
 * compute node that refuses (at the start, at a member barrier, or with another {@code --cns})
 * makes the others stop at once naming it and the reason instead of waiting out {@code --wait}; a
 * later run of the same name never sees an earlier run's refusal; a stopping process ends its wait
 * within a slice and leaves no arrival behind; a long wait says what it waits for and gives up
 * with a clear error.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RunBarriersTest {
    private static final long WAIT_MILLIS = 60_000;
    private static final List<String> STEPS = List.of("loaded", "results");

    private MemoryNode node;
    private ControlPlane plane;
    private final List<String> notes = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        node = new MemoryNode(0, new MemoryNodeConfig(16L << 20, 1L << 20, 1L << 16));
        plane = new ControlPlane(node, null);
    }

    @AfterEach
    void stop() {
        plane.shutdown();
        node.close();
    }

    /** The calls of compute node {@code cn}, as its control connection makes them. */
    private RunBarriers.Calls calls(int cn) {
        return new RunBarriers.Calls() {
            @Override
            public BarrierRelease arrive(String name, int parties, Set<Integer> members, int waitMillis, byte[] payload) {
                try {
                    ControlPlane.BarrierRelease r = plane.barrier(name, cn, parties, members, waitMillis, payload);
                    return new BarrierRelease(r.arrivals(), r.departed());
                } catch (ControlPlane.Refusal e) {
                    throw new ControlException(e.getMessage(), e.code());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new ControlException("interrupted");
                }
            }

            @Override
            public void arriveAndLeave(String name, int parties, Set<Integer> members, int waitMillis, byte[] payload) {
                try {
                    ControlPlane.Wait w = plane.barrier(name, cn, parties, members, waitMillis, payload,
                            new ControlPlane.Outcome<>() {
                                @Override
                                public void done(ControlPlane.BarrierRelease value) {
                                }

                                @Override
                                public void refused(ControlPlane.Refusal refusal) {
                                }
                            });
                    w.cancel(); // the connection closed, as the memory node's service does when it ends
                    plane.leave(cn);
                } catch (ControlPlane.Refusal e) {
                    throw new ControlException(e.getMessage(), e.code());
                }
            }
        };
    }

    private RunBarriers barriers(int cn, int parties, long nonce, AtomicBoolean stopping) {
        return new RunBarriers("run", cn, parties, STEPS, calls(cn), WAIT_MILLIS, 100, 30_000, stopping::get, notes::add, nonce);
    }

    private RunBarriers barriers(int cn, int parties) {
        return barriers(cn, parties, cn, new AtomicBoolean());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static Throwable failureOf(CompletableFuture<?> f) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void aRefusalAtTheStartStopsAWaitingPartnerAtOnce() throws Exception {
        int a = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        int b = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        RunBarriers ra = barriers(a, 2);
        CompletableFuture<Map<Integer, byte[]>> waiting = CompletableFuture.supplyAsync(() -> ra.start(bytes("settings")));
        Thread.sleep(300);
        assertFalse(waiting.isDone(), "a waits for its partner");
        long t0 = System.nanoTime();
        assertEquals(Optional.of("run/start"), barriers(b, 2).refuse("its --key-size 16 does not match the index's 8"));
        Throwable t = failureOf(waiting);
        System.out.printf("partner stopped %d ms after the refusal (--wait %d s)%n", (System.nanoTime() - t0) / 1_000_000,
                WAIT_MILLIS / 1000);
        RunBarriers.PartnerRefusedException e = assertInstanceOf(RunBarriers.PartnerRefusedException.class, t);
        assertEquals(Map.of(b, "its --key-size 16 does not match the index's 8"), e.reasons());
        assertTrue(e.getMessage().contains("compute node " + b + " cannot take part in run 'run': its --key-size 16"),
                e.getMessage());
        assertFalse(plane.computeNodes().contains(b), "the refuser left the cluster");
    }

    @Test
    void aRefusalLeftAtAMemberBarrierReachesPartnersThatArriveLater() throws Exception {
        int a = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        int b = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        int c = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        RunBarriers ra = barriers(a, 3);
        RunBarriers rb = barriers(b, 3);
        RunBarriers rc = barriers(c, 3);
        CompletableFuture<Map<Integer, byte[]>> sa = CompletableFuture.supplyAsync(() -> ra.start(bytes("A")));
        CompletableFuture<Map<Integer, byte[]>> sb = CompletableFuture.supplyAsync(() -> rb.start(bytes("B")));
        Map<Integer, byte[]> sc = rc.start(bytes("C"));
        assertArrayEquals(bytes("B"), sc.get(b), "the start hands over each payload without its run token");
        assertEquals(3, sa.get(10, TimeUnit.SECONDS).size());
        sb.get(10, TimeUnit.SECONDS);
        assertEquals(Set.of(a, b, c), rc.members());
        // b's worker fails during the load: it tells the others at 'loaded' and leaves at once
        Optional<String> told = rb.refuse("memory node 1 is gone");
        assertTrue(told.isPresent() && told.get().endsWith("/loaded"), told.toString());
        Thread.sleep(300); // the others come later
        CompletableFuture<BarrierRelease> la = CompletableFuture.supplyAsync(() -> ra.meet("loaded", new byte[0]));
        Throwable tc = assertThrows(RunBarriers.PartnerRefusedException.class, () -> rc.meet("loaded", new byte[0]));
        Throwable ta = failureOf(la);
        for (Throwable t : List.of(ta, tc)) {
            RunBarriers.PartnerRefusedException e = assertInstanceOf(RunBarriers.PartnerRefusedException.class, t);
            assertEquals(Map.of(b, "memory node 1 is gone"), e.reasons());
        }
    }

    @Test
    void aLaterRunOfTheSameNameDoesNotSeeAnEarlierRunsRefusal() throws Exception {
        int a = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        int b = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        RunBarriers ra = barriers(a, 2, 1, new AtomicBoolean());
        RunBarriers rb = barriers(b, 2, 2, new AtomicBoolean());
        CompletableFuture<Map<Integer, byte[]>> sa = CompletableFuture.supplyAsync(() -> ra.start(bytes("x")));
        rb.start(bytes("x"));
        sa.get(10, TimeUnit.SECONDS);
        assertTrue(rb.refuse("gone").isPresent());
        plane.leave(a); // a dies before 'loaded': the refusal stays there unread
        // the same ids, the same run name, a new run
        int a2 = plane.join(a);
        int b2 = plane.join(b);
        RunBarriers ra2 = barriers(a2, 2, 3, new AtomicBoolean());
        RunBarriers rb2 = barriers(b2, 2, 4, new AtomicBoolean());
        CompletableFuture<Map<Integer, byte[]>> sa2 = CompletableFuture.supplyAsync(() -> ra2.start(bytes("y")));
        rb2.start(bytes("y"));
        sa2.get(10, TimeUnit.SECONDS);
        CompletableFuture<BarrierRelease> la2 = CompletableFuture.supplyAsync(() -> ra2.meet("loaded", new byte[0]));
        BarrierRelease r = rb2.meet("loaded", new byte[0]);
        assertEquals(Set.of(a2, b2), r.arrivals().keySet());
        la2.get(10, TimeUnit.SECONDS);
    }

    @Test
    void aComputeNodeRunWithAnotherCountTellsTheWaitingOnes() throws Exception {
        int a = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        int b = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        RunBarriers ra = barriers(a, 2);
        int before = plane.waiting();
        CompletableFuture<Map<Integer, byte[]>> waiting = CompletableFuture.supplyAsync(() -> ra.start(bytes("s")));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (plane.waiting() == before && System.nanoTime() < until) { // a's arrival first, even on a loaded host
            Thread.sleep(5);
        }
        assertTrue(plane.waiting() > before, "a's start never arrived");
        RunBarriers rb = barriers(b, 3);
        ControlException wrong = assertThrows(ControlException.class, () -> rb.start(bytes("s")));
        assertTrue(wrong.getMessage().contains("a run of 3 compute nodes") && wrong.getMessage().contains("is for 2"),
                wrong.getMessage());
        assertEquals(Optional.of("run/start"), rb.refuse(wrong.getMessage()));
        RunBarriers.PartnerRefusedException e = assertInstanceOf(RunBarriers.PartnerRefusedException.class,
                failureOf(waiting));
        assertTrue(e.reasons().get(b).contains("a run of 3 compute nodes"), e.getMessage());
    }

    @Test
    void stoppingEndsAWaitWithinASliceAndLeavesNoArrival() throws Exception {
        int a = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        int b = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        AtomicBoolean stopping = new AtomicBoolean();
        RunBarriers ra = barriers(a, 2, 1, stopping);
        CompletableFuture<Map<Integer, byte[]>> waiting = CompletableFuture.supplyAsync(() -> ra.start(bytes("s")));
        Thread.sleep(300);
        long t0 = System.nanoTime();
        stopping.set(true);
        assertInstanceOf(RunBarriers.StoppedException.class, failureOf(waiting));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("a stopping wait ended " + ms + " ms after the signal (slices of 100 ms)");
        assertTrue(ms < 10_000, "ended after " + ms + " ms");
        plane.leave(a);
        // no arrival of a is left: b alone does not get a release
        RunBarriers rb = new RunBarriers("run", b, 2, STEPS, calls(b), 500, 100, 30_000, () -> false, notes::add, 2);
        ControlException e = assertThrows(ControlException.class, () -> rb.start(bytes("s")));
        assertTrue(e.refusedWith(ErrorCode.TIMEOUT), e.getMessage());
    }

    @Test
    void aLongWaitSaysWhatItWaitsForAndGivesUpClearly() throws Exception {
        int a = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        RunBarriers ra = new RunBarriers("run", a, 2, STEPS, calls(a), 1_200, 100, 300, () -> false, notes::add, 1);
        ControlException e = assertThrows(ControlException.class, () -> ra.start(bytes("s")));
        assertTrue(e.getMessage().startsWith("compute node " + a + " gave up at 'run/start' after 1 s (--wait)"),
                e.getMessage());
        assertTrue(e.getMessage().contains("only 1 of 2 compute nodes arrived"), e.getMessage());
        assertFalse(notes.isEmpty(), "no progress line");
        assertTrue(notes.get(0).startsWith("cn " + a + ": still waiting at 'run/start' after "), notes.get(0));
        assertTrue(notes.size() <= 5, notes.toString());
    }

    @Test
    void aComputeNodeAloneOrPastEveryBarrierHasNobodyToTell() throws Exception {
        int a = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        assertEquals(Optional.empty(), barriers(a, 1).refuse("x"));
        int b = plane.join(ControlFrame.ANY_COMPUTE_NODE);
        RunBarriers ra = barriers(a, 2);
        RunBarriers rb = barriers(b, 2);
        CompletableFuture<Void> walkA = CompletableFuture.runAsync(() -> {
            ra.start(bytes("s"));
            ra.meet("loaded", new byte[0]);
            ra.meet("results", bytes("r"));
        });
        rb.start(bytes("s"));
        rb.meet("loaded", new byte[0]);
        assertArrayEquals(bytes("r"), rb.meet("results", bytes("q")).arrivals().get(a));
        walkA.get(10, TimeUnit.SECONDS);
        assertEquals(null, rb.nextBarrier());
        assertEquals(Optional.empty(), rb.refuse("late"));
        assertThrows(IllegalStateException.class, () -> rb.meet("results", new byte[0]));
    }
}
