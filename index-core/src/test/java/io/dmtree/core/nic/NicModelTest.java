package io.dmtree.core.nic;

import io.dmtree.core.memory.GlobalAddress;
import io.dmtree.core.memory.RemoteAccessException;
import io.dmtree.core.memory.VerbBatch;
import io.dmtree.core.memory.VerbKind;
import io.dmtree.core.memory.Verbs;
import io.dmtree.core.messaging.InJvmMessageBus;
import io.dmtree.core.messaging.ModelledLatencyMessaging;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The modelled NIC on a virtual clock: a verb's completion follows the queue, atomics on one
 * address serialize (and wait off the server), bytes cost bandwidth, loopback skips the link, and
 * the dilation scales every instant. A seeded concurrent run on the wall clock checks that the
 * decorator keeps the carrier's atomicity and the one-address gap ({@code -Ddmtree.seed=N}).
 */
class NicModelTest {
    /** Round numbers: RTT 2000 ns, READ/WRITE 100 ns, atomics 200 ns, one address 1000 ns, 1 byte/ns. */
    static NicModelConfig config(double dilation) {
        return new NicModelConfig(dilation, 2_000, 3_000, 400, 10e6, 5e6, 1e6, 1e9, 0);
    }

    static final long A = GlobalAddress.of(0, 64);
    static final long B = GlobalAddress.of(0, 128);

    @Test
    void requestsQueueInFrontOfOneServer() {
        MemoryNodeNic nic = new MemoryNodeNic(config(1));
        assertEquals(1_100, nic.admit(VerbKind.READ, A, 8, 1_000));
        assertEquals(1_200, nic.admit(VerbKind.READ, B, 8, 1_000));
        assertEquals(1_300, nic.admit(VerbKind.WRITE, A, 8, 1_000));
        assertEquals(1_500, nic.admit(VerbKind.CAS, B, 8, 1_000)); // atomics take 200 ns of the server
        assertEquals(5_100, nic.admit(VerbKind.READ, A, 8, 5_000)); // the queue drained: no wait
        MemoryNodeNic.Stats s = nic.stats();
        assertEquals(5, s.requests());
        assertEquals(100 + 200 + 300, s.queuedNanos());
        assertEquals(4 * 100 + 200, s.busyNanos());
    }

    @Test
    void atomicsOnOneAddressSerializeButOthersPass() {
        MemoryNodeNic nic = new MemoryNodeNic(config(1));
        assertEquals(200, nic.admit(VerbKind.FAA, A, 8, 0));
        assertEquals(1_200, nic.admit(VerbKind.CAS, A, 8, 0)); // served at 400, waits for the address until 1200
        assertEquals(500, nic.admit(VerbKind.READ, A, 8, 0)); // not held up by the waiting atomic
        assertEquals(700, nic.admit(VerbKind.FAA, B, 8, 0)); // another address: no gap
        assertEquals(2_200, nic.admit(VerbKind.FAA, A, 8, 0));
        assertEquals(1_000, nic.admit(VerbKind.WRITE, A, 8, 0)); // a WRITE is no atomic: server only
        assertEquals(2_200 + 1_000, nic.admit(VerbKind.FAA, A, 8, 2_000)); // served 2000..2200, one gap after 2200
        assertTrue(nic.stats().addressWaitNanos() > 0);
    }

    @Test
    void headOfLineAtomicsKeepTheirUnit() {
        NicModelConfig one = new NicModelConfig(1, 2_000, 3_000, 400, 10e6, 5e6, 1e6, 1e9, 0, 1, true);
        MemoryNodeNic nic = new MemoryNodeNic(one);
        assertEquals(200, nic.admit(VerbKind.FAA, A, 8, 0));
        assertEquals(1_200, nic.admit(VerbKind.CAS, A, 8, 0)); // holds the only unit until 1200
        assertEquals(1_300, nic.admit(VerbKind.READ, B, 8, 0)); // so the READ waits for it
        NicModelConfig two = new NicModelConfig(1, 2_000, 3_000, 400, 10e6, 5e6, 1e6, 1e9, 0, 2, true);
        nic = new MemoryNodeNic(two);
        assertEquals(400, nic.admit(VerbKind.FAA, A, 8, 0)); // each unit serves at half the rate
        assertEquals(1_400, nic.admit(VerbKind.CAS, A, 8, 0)); // unit 1, held until 1400
        assertEquals(600, nic.admit(VerbKind.READ, B, 8, 0)); // unit 0 is free at 400
        assertEquals(800, nic.admit(VerbKind.READ, B, 8, 0)); // unit 0 again: unit 1 is still held
        assertEquals(1_550, nic.admit(VerbKind.READ, B, 8, 1_350)); // unit 0 (free since 800) serves it at once
    }

    @Test
    void anAddressIdleForLongerThanTheGapWaitsForNothing() {
        MemoryNodeNic nic = new MemoryNodeNic(config(1));
        assertEquals(200, nic.admit(VerbKind.FAA, A, 8, 0));
        assertEquals(10_200, nic.admit(VerbKind.FAA, A, 8, 10_000));
        // many other addresses in between reuse the slots without losing A's constraint while it is live
        for (int i = 0; i < 1_000; i++) {
            assertEquals(20_000 + (i + 1) * 200L, nic.admit(VerbKind.FAA, GlobalAddress.of(0, 4096 + 8L * i), 8, 20_000));
        }
        long afterFlood = nic.admit(VerbKind.FAA, A, 8, 20_000);
        assertEquals(20_000 + 1_001 * 200L, afterFlood); // queued behind the burst on the server, no address wait
        assertEquals(0, nic.stats().addressWaitNanos());
    }

    @Test
    void bytesCostBandwidth() {
        MemoryNodeNic nic = new MemoryNodeNic(config(1));
        assertEquals(1_024, nic.admit(VerbKind.READ, A, 1_024, 0)); // 1 byte/ns beats 100 ns per verb
        assertEquals(1_024 + 100, nic.admit(VerbKind.WRITE, A, 64, 0));
    }

    @Test
    void aVerbCompletesOneWayAfterItTookEffect() {
        VirtualClock clock = new VirtualClock(10_000);
        NicModel model = new NicModel(config(1), 1, clock);
        try (Verbs v = model.verbs(new ArrayVerbs(1, 4096))) {
            UnsafeBuffer buf = new UnsafeBuffer(new byte[8]);
            v.read(A, buf, 0, 8);
            assertEquals(10_000 + 1_000 + 100 + 1_000, clock.now());
            assertEquals(0, v.faa(A, 5));
            assertEquals(12_100 + 1_000 + 200 + 1_000, clock.now());
            assertEquals(5, v.cas(A, 5, 7));
            // the address last took effect at 13_300: served by 15_500, later than the gap needs (14_300)
            assertEquals(14_300 + 1_000 + 200 + 1_000, clock.now());
        }
    }

    @Test
    void aBatchIsOneRoundTripQueuedRequestByRequest() {
        VirtualClock clock = new VirtualClock(0);
        NicModel model = new NicModel(config(1), 2, clock);
        try (Verbs v = model.verbs(new ArrayVerbs(2, 4096))) {
            UnsafeBuffer buf = new UnsafeBuffer(new byte[64]);
            VerbBatch b = new VerbBatch().faa(A, 1).read(B, buf, 0, 64).faa(GlobalAddress.of(1, 64), 1);
            v.post(b);
            // MN 0: FAA 1000..1200, READ 1200..1300; MN 1: FAA 1000..1200; back one way after the last
            assertEquals(1_300 + 1_000, clock.now());
            assertEquals(0, b.result(0));
        }
    }

    @Test
    void loopbackSkipsTheLinkButNotTheNic() {
        VirtualClock clock = new VirtualClock(0);
        NicModel model = new NicModel(config(1), 2, clock);
        try (Verbs v = model.verbs(new ArrayVerbs(2, 4096), 0)) {
            v.faa(A, 1);
            assertEquals(200 + 200 + 200, clock.now()); // 200 ns each way, 200 ns at the NIC
            clock.set(10_000);
            v.faa(GlobalAddress.of(1, 64), 1);
            assertEquals(10_000 + 1_000 + 200 + 1_000, clock.now());
        }
    }

    @Test
    void localCpuAccessTakesItsModelledTimeAndNoNic() {
        VirtualClock clock = new VirtualClock(0);
        NicModelConfig c = new NicModelConfig(10, 2_000, 3_000, 400, 10e6, 5e6, 1e6, 1e9, 0, 1, false, 100);
        NicModel model = new NicModel(c, 1, clock);
        long[] word = new long[1];
        io.dmtree.core.lock.HostMemory raw = new io.dmtree.core.lock.HostMemory() {
            public long getVolatile(long address) {
                return word[0];
            }

            public void putVolatile(long address, long value) {
                word[0] = value;
            }

            public long compareAndSwap(long address, long expected, long desired) {
                long found = word[0];
                if (found == expected) {
                    word[0] = desired;
                }
                return found;
            }
        };
        io.dmtree.core.lock.HostMemory local = model.hostMemory(raw);
        assertEquals(0, local.compareAndSwap(A, 0, 5));
        local.putVolatile(A, 6);
        assertEquals(6, local.getVolatile(A));
        assertEquals(3 * 100 * 10, clock.now()); // 0.1 us each, dilated x10
        assertEquals(0, model.stats().requests()); // no NIC on the way
    }

    @Test
    void anOverloadedMemoryNodeDelaysEveryone() {
        VirtualClock clock = new VirtualClock(0);
        NicModel model = new NicModel(config(1), 1, clock);
        MemoryNodeNic nic = model.nic(0);
        for (int i = 0; i < 50; i++) {
            nic.admit(VerbKind.CAS, GlobalAddress.of(0, 8L * i), 8, 1_000); // another client's burst: 10 us of work
        }
        try (Verbs v = model.verbs(new ArrayVerbs(1, 4096))) {
            v.read(B, new UnsafeBuffer(new byte[8]), 0, 8);
            assertEquals(1_000 + 50 * 200 + 100 + 1_000, clock.now());
        }
    }

    @Test
    void dilationScalesEveryInstant() {
        for (double d : new double[]{1, 10, 250}) {
            VirtualClock clock = new VirtualClock(0);
            NicModel model = new NicModel(config(d), 1, clock);
            try (Verbs v = model.verbs(new ArrayVerbs(1, 4096))) {
                v.faa(A, 1);
                v.faa(A, 1);
                v.read(B, new UnsafeBuffer(new byte[1024]), 0, 1024);
            }
            // FAA 0..2200; FAA arrives 3200, served 3400 (gap from 1200 met); READ arrives 5400, 1024 ns, back at 7424
            assertEquals(Math.round(7_424 * d), clock.now(), "dilation " + d);
            ModelledLatencyMessaging m = (ModelledLatencyMessaging) model.messaging(new InJvmMessageBus().join());
            assertEquals(Math.round(3_000 * d), m.oneWayNanos());
            m.close();
        }
    }

    @Test
    void badAddressesStillFailAsTheCarrierFailsThem() {
        NicModel model = new NicModel(config(1), 1, new VirtualClock(0));
        try (Verbs v = model.verbs(new ArrayVerbs(1, 4096))) {
            assertThrows(RemoteAccessException.class, () -> v.faa(GlobalAddress.of(3, 64), 1));
        }
        assertThrows(IllegalArgumentException.class, () -> model.verbs(new ArrayVerbs(2, 64)));
    }

    @Test
    void optionsParseAndNameBadKeys() {
        NicModelConfig c = NicModelConfig.parse(Map.of("dilation", "50", "rtt-us", "3", "atomic-mops", "8"));
        assertEquals(50, c.dilation());
        assertEquals(3_000, c.roundTripNanos());
        assertEquals(8e6, c.atomicOpsPerSecond());
        assertEquals(NicModelConfig.defaults().readWriteOpsPerSecond(), c.readWriteOpsPerSecond());
        assertEquals(75_000, c.oneWayNanos());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NicModelConfig.parse(Map.of("rtt", "3")));
        assertTrue(e.getMessage().contains("rtt"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> NicModelConfig.parse(Map.of("dilation", "0.5")));
        assertThrows(IllegalArgumentException.class, () -> NicModelConfig.parse(Map.of("rw-mops", "x")));
        assertThrows(IllegalArgumentException.class, () -> NicModelConfig.parse(Map.of("rw-mops", "0")));
        assertTrue(c.describe().startsWith("MODELLED"));
        assertEquals(250_000, NicModelConfig.parse(Map.of("local-us", "0.25", "dilation", "1000")).localAccessWallNanos());
        NicModelConfig h = NicModelConfig.parse(Map.of("units", "4", "atomic-hol", "1"));
        assertEquals(4, h.units());
        assertTrue(h.atomicHeadOfLine());
        assertEquals(Math.round(4 * 1e9 / h.atomicOpsPerSecond() * h.dilation()), h.atomicServiceNanos());
        assertThrows(IllegalArgumentException.class, () -> NicModelConfig.parse(Map.of("units", "1.5")));
        assertThrows(IllegalArgumentException.class, () -> NicModelConfig.parse(Map.of("units", "0")));
        assertThrows(IllegalArgumentException.class, () -> NicModelConfig.parse(Map.of("atomic-hol", "2")));
    }

    @Test
    void theWallClockNeverReturnsBeforeTheDeadline() {
        NicClock clock = NicClock.system(5_000);
        for (int i = 0; i < 300; i++) {
            long wait = (i % 3) * 40_000L + 1_000; // 1 us, 41 us, 81 us: below and above the park threshold
            long deadline = clock.now() + wait;
            clock.awaitUntil(deadline);
            assertTrue(System.nanoTime() >= deadline, "returned before its deadline");
        }
        assertThrows(IllegalArgumentException.class, () -> NicClock.system(-1));
    }

    @Test
    void concurrentAtomicsKeepTheCarriersAtomicityAndTheGap() throws Exception {
        String fixed = System.getProperty("dmtree.seed");
        long seed = fixed != null ? Long.parseLong(fixed) : System.nanoTime();
        System.out.println("NicModelTest.concurrent seed=" + seed + " (replay with -Ddmtree.seed=" + seed + ")");
        // wall clock, dilation 1, one address gap of 20 us so the test is quick yet the gap dominates
        NicModelConfig c = new NicModelConfig(1, 4_000, 4_000, 0, 10e6, 5e6, 50e3, 1e9, 2_000);
        NicModel model = new NicModel(c, 1);
        ArrayVerbs carrier = new ArrayVerbs(1, 4096);
        int threads = 4;
        int perThread = 200;
        List<Thread> workers = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        SplittableRandom root = new SplittableRandom(seed);
        long start = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            SplittableRandom rnd = root.split();
            Verbs v = model.verbs(carrier);
            Thread th = new Thread(() -> {
                try {
                    for (int i = 0; i < perThread; i++) {
                        if (rnd.nextBoolean()) {
                            v.faa(A, 1);
                        } else {
                            long seen = v.faa(A, 0);
                            for (long found; (found = v.cas(A, seen, seen + 1)) != seen; ) {
                                seen = found; // another thread's atomic took effect in between: retry from its value
                            }
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            workers.add(th);
            th.start();
        }
        for (Thread th : workers) {
            th.join(60_000);
            assertFalse(th.isAlive(), "worker still running after 60 s");
        }
        assertEquals(null, failure.get());
        MemoryNodeNic.Stats s = model.stats();
        long elapsed = System.nanoTime() - start;
        assertEquals(threads * perThread * 1L, carrier.faa(A, 0), "an increment was lost");
        // every atomic (all are on A) took effect at least one 20 us gap after the previous one
        assertTrue(s.atomics() >= threads * perThread);
        assertTrue(elapsed >= (s.atomics() - 1) * c.sameAddressGapNanos(),
                "atomics on one address finished faster than the gap allows: " + s.atomics() + " in " + elapsed + " ns");
        assertTrue(s.addressWaitNanos() > 0);
    }
}
