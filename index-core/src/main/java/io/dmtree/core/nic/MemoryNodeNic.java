package io.dmtree.core.nic;

import io.dmtree.core.memory.VerbKind;

/**
 * One memory node's modelled NIC: {@link NicModelConfig#units} processing units fed by one FIFO
 * queue in front of the memory node's memory, and the NIC's serialization of atomics on one address. Every compute node's verbs to this memory
 * node pass through the same instance, so an overloaded memory node delays everyone.
 *
 * <p>Algorithm (reservation, no thread of its own): {@link #admit} is called once per request with
 * the instant it arrives at the NIC and returns the instant it takes effect there.
 * <ol>
 *   <li>Queue: the request goes to the unit that is free first, starts service at
 *   {@code max(arrival, unitFree)} and holds the unit for its service time ({@link NicModelConfig#readWriteServiceNanos} for READ/WRITE, the larger of
 *   the per-verb time and its bytes over the bandwidth; {@link NicModelConfig#atomicServiceNanos}
 *   for CAS/FAA; both times the units, as each unit serves its share of the rate); the unit's
 *   {@code unitFree} moves to its end.</li>
 *   <li>Serialization on one address: an atomic takes effect no sooner than
 *   {@link NicModelConfig#sameAddressGapNanos} after the previous atomic on the same 8-byte
 *   address took effect. By default it waits aside (its unit serves other requests meanwhile); with
 *   {@link NicModelConfig#atomicHeadOfLine} it keeps its unit until it took effect.</li>
 * </ol>
 * Invariants: requests are admitted in the order {@link #admit} is called (callers arrive with
 * one link delay, so call order is arrival order up to that delay); every unit's {@code unitFree} never decreases; the atomics on one address take effect at least one gap
 * apart and in admission order.
 *
 * <p>The last-atomic instant per address lives in a fixed open-addressing table of
 * {@link #SLOTS} slots probed linearly up to {@link #PROBES} slots: a slot whose last atomic is
 * more than one gap before the arrival holds no constraint any more and is reused, so the live slots
 * are at most the atomics still queued or within one gap (about one per client in flight, far
 * below the table's size). Should every
 * probed slot be live (more than {@link #PROBES} hot addresses in one neighbourhood), the atomic
 * serializes with the first probed slot's address too: an over-estimate of the delay, never an
 * under-estimate. Hot paths allocate nothing. Thread-safe (one monitor).
 */
public final class MemoryNodeNic {
    static final int SLOTS = 1 << 12;
    static final int PROBES = 8;
    private static final long EMPTY = Long.MIN_VALUE;

    private final long atomicService;
    private final long gap;
    private final NicModelConfig config;
    private final long[] slotAddress = new long[SLOTS];
    private final long[] slotLast = new long[SLOTS];
    private final long[] unitFree;
    private final boolean headOfLine;
    private long admitted;
    private long atomics;
    private long busyNanos;
    private long queuedNanos;
    private long addressWaitNanos;

    public MemoryNodeNic(NicModelConfig config) {
        this.config = config;
        this.atomicService = config.atomicServiceNanos();
        this.gap = config.sameAddressGapNanos();
        java.util.Arrays.fill(slotAddress, EMPTY);
        this.unitFree = new long[config.units()];
        java.util.Arrays.fill(unitFree, Long.MIN_VALUE);
        this.headOfLine = config.atomicHeadOfLine();
    }

    /** Admits one request arriving at {@code arrival}; returns the instant it takes effect. */
    public synchronized long admit(VerbKind kind, long address, int bytes, long arrival) {
        boolean atomic = kind == VerbKind.CAS || kind == VerbKind.FAA;
        long service = atomic ? atomicService : config.readWriteServiceNanos(bytes);
        int unit = 0;
        for (int u = 1; u < unitFree.length; u++) {
            if (unitFree[u] < unitFree[unit]) {
                unit = u;
            }
        }
        long start = Math.max(arrival, unitFree[unit]);
        long done = start + service;
        queuedNanos += start - arrival;
        busyNanos += service;
        admitted++;
        if (atomic) {
            atomics++;
            int slot = slotFor(address, arrival);
            if (slotAddress[slot] != EMPTY) {
                long earliest = slotLast[slot] + gap;
                if (earliest > done) {
                    addressWaitNanos += earliest - done;
                    done = earliest;
                }
            }
            slotAddress[slot] = address;
            slotLast[slot] = done;
        }
        unitFree[unit] = atomic && headOfLine ? done : start + service;
        return done;
    }

    private int slotFor(long address, long arrival) {
        int home = (int) (mix(address) & (SLOTS - 1));
        int reusable = -1;
        for (int i = 0; i < PROBES; i++) {
            int s = (home + i) & (SLOTS - 1);
            long a = slotAddress[s];
            if (a == address) {
                return s;
            }
            if (reusable < 0 && (a == EMPTY || slotLast[s] + gap <= arrival)) {
                reusable = s;
            }
        }
        if (reusable >= 0) {
            slotAddress[reusable] = EMPTY;
            return reusable;
        }
        return home;
    }

    private static long mix(long x) {
        x ^= x >>> 33;
        x *= 0xff51afd7ed558ccdL;
        x ^= x >>> 33;
        return x;
    }

    /** Counters since creation: what the model did, for reports. */
    public synchronized Stats stats() {
        return new Stats(admitted, atomics, busyNanos, queuedNanos, addressWaitNanos);
    }

    /**
     * @param requests         requests admitted
     * @param atomics          of which CAS/FAA
     * @param busyNanos        unit time spent serving, summed over units (dilated wall nanoseconds)
     * @param queuedNanos      time requests waited for a unit, summed
     * @param addressWaitNanos time atomics waited for an earlier atomic on their address, summed
     */
    public record Stats(long requests, long atomics, long busyNanos, long queuedNanos, long addressWaitNanos) {
        public Stats minus(Stats o) {
            return new Stats(requests - o.requests, atomics - o.atomics, busyNanos - o.busyNanos,
                    queuedNanos - o.queuedNanos, addressWaitNanos - o.addressWaitNanos);
        }
    }
}
