package io.dmtree.core.nic;

import io.dmtree.core.carrier.CarrierOptions;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The parameters of a modelled memory-node NIC ({@link NicModel}), in undilated units: what a
 * ConnectX-class RDMA NIC does per second and per verb. Every figure taken with the model is
 * modelled and is printed with {@link #describe()}.
 *
 * <p>Defaults come from published measurements:
 * <ul>
 *   <li>{@link #roundTripNanos} 2 us: the round trip of a small one-sided READ on InfiniBand FDR
 *   and EDR ConnectX-3/4 is 1.5–2.5 us (Kalia, Kaminsky, Andersen, "Design Guidelines for High
 *   Performance RDMA Systems", USENIX ATC'16, and "Using RDMA Efficiently for Key-Value
 *   Services", SIGCOMM'14 (HERD)); the disaggregated-memory indexes the lock modularization paper
 *   builds on (Sherman, SIGMOD'22; SMART, OSDI'23) report the same range.</li>
 *   <li>{@link #messageNanos} equal to the round trip: a grant message between compute nodes
 *   costs what a verb costs (a SEND, the receiver's completion poll and its wake-up).</li>
 *   <li>{@link #readWriteOpsPerSecond} 30 M: inbound small READ/WRITE rate of one ConnectX-3 port,
 *   about 26–35 Mops (HERD, Fig. 3; ATC'16 §3).</li>
 *   <li>{@link #atomicOpsPerSecond} 10 M: atomics on distinct addresses run at about a third of
 *   the READ rate on ConnectX-class NICs (ATC'16 §5.3, atomics).</li>
 *   <li>{@link #sameAddressAtomicOpsPerSecond} 2.5 M: the NIC serializes atomics on one 8-byte
 *   address (it holds an internal lock across the PCIe read-modify-write), so one address takes
 *   about 2–3 Mops however many clients issue them (ATC'16 §5.3, the networked sequencer's
 *   starting point; Sherman's HOCL motivation measures the same collapse).</li>
 *   <li>{@link #bytesPerSecond} 7 GB/s: 56 Gb/s FDR payload bandwidth.</li>
 *   <li>{@link #units} 4 and {@link #atomicHeadOfLine} off: the NIC is four processing units fed
 *   by one FIFO queue, together at the rates above, and an atomic that must wait for an earlier
 *   atomic on its address waits aside, so contended atomics slow only their own address. The
 *   published figures fix the rates, not the number of units nor how they block (4 is an
 *   assumption; ConnectX NICs process requests on several units in parallel, ATC'16 §2): with {@code atomic-hol=1} a waiting atomic keeps its unit
 *   (head-of-line blocking), the pessimistic reading, under which spinning on one hot lock
 *   starves every other verb once the spinners outnumber the units. Both are run-time options so
 *   a figure can be shown under each.</li>
 *   <li>{@link #localAccessNanos} 0.1 us: a compute node on a memory node's host that reaches its
 *   memory by CPU access ({@code alock}'s local cohort) pays a CPU atomic on a cache line last
 *   written by another core or the NIC.</li>
 *   <li>{@link #loopbackNanos} 1 us: a verb a compute node on the memory node's own host posts
 *   through the NIC (loopback) skips the wire but still crosses PCIe twice (ALock, Sec. 1).</li>
 * </ul>
 *
 * <p>{@link #dilation} scales every delay and every service time by one factor (every rate
 * divides by it), so that dozens of modelled clients run on a 2-core host: with dilation 200 a
 * 2 us round trip takes 400 us of wall time and the JVM's own microseconds per verb become noise.
 * Ratios between designs are what the model is for; absolute figures are dilated and printed so.
 * {@link #spinNanos} is wall time, not dilated: a waiting thread parks until that long before its
 * modelled completion and spins the rest.
 */
public record NicModelConfig(double dilation, long roundTripNanos, long messageNanos, long loopbackNanos,
                             double readWriteOpsPerSecond, double atomicOpsPerSecond,
                             double sameAddressAtomicOpsPerSecond, double bytesPerSecond, long spinNanos,
                             int units, boolean atomicHeadOfLine, long localAccessNanos) {
    /** The option keys of {@link #parse}, each with its meaning. */
    public static final Map<String, String> KEYS;

    static {
        Map<String, String> k = new TreeMap<>();
        k.put("dilation", "time dilation factor, >= 1: every delay and service time is multiplied by it");
        k.put("rtt-us", "round trip of a verb on one link, us (undilated)");
        k.put("message-us", "delivery time of a compute-node message, us (undilated)");
        k.put("loopback-us", "round trip of a verb from the memory node's own host, us (undilated)");
        k.put("rw-mops", "memory-node NIC READ/WRITE rate, Mops (undilated)");
        k.put("atomic-mops", "memory-node NIC CAS/FAA rate on distinct addresses, Mops (undilated)");
        k.put("same-address-mops", "CAS/FAA rate on one address, Mops (undilated)");
        k.put("gbytes", "memory-node NIC payload bandwidth, GB/s (undilated)");
        k.put("units", "processing units of the memory-node NIC, each serving at rate/units");
        k.put("atomic-hol", "1: an atomic waiting for its address keeps its processing unit (head-of-line); 0: waits aside");
        k.put("local-us", "a CPU access of a compute node to its own host's memory node (alock's local path), us (undilated)");
        k.put("spin-us", "wall-clock microseconds a waiting thread spins before its completion instead of parking");
        KEYS = Map.copyOf(k);
    }

    public NicModelConfig {
        if (!(dilation >= 1) || dilation > 1e6) {
            throw new IllegalArgumentException("NIC model dilation must be in [1, 1e6]: " + dilation);
        }
        if (roundTripNanos < 0 || messageNanos < 0 || loopbackNanos < 0 || spinNanos < 0) {
            throw new IllegalArgumentException("NIC model delays must not be negative");
        }
        if (!(readWriteOpsPerSecond > 0) || !(atomicOpsPerSecond > 0) || !(sameAddressAtomicOpsPerSecond > 0)
                || !(bytesPerSecond > 0)) {
            throw new IllegalArgumentException("NIC model rates must be positive");
        }
        if (localAccessNanos < 0) {
            throw new IllegalArgumentException("NIC model local access time must not be negative: " + localAccessNanos);
        }
        if (units < 1 || units > 1024) {
            throw new IllegalArgumentException("NIC model units must be in [1, 1024]: " + units);
        }
    }

    /** Without the two queueing options: one unit, atomics wait for their address aside. */
    public NicModelConfig(double dilation, long roundTripNanos, long messageNanos, long loopbackNanos,
                          double readWriteOpsPerSecond, double atomicOpsPerSecond,
                          double sameAddressAtomicOpsPerSecond, double bytesPerSecond, long spinNanos) {
        this(dilation, roundTripNanos, messageNanos, loopbackNanos, readWriteOpsPerSecond, atomicOpsPerSecond,
                sameAddressAtomicOpsPerSecond, bytesPerSecond, spinNanos, 1, false);
    }

    /** With the default local access time. */
    public NicModelConfig(double dilation, long roundTripNanos, long messageNanos, long loopbackNanos,
                          double readWriteOpsPerSecond, double atomicOpsPerSecond,
                          double sameAddressAtomicOpsPerSecond, double bytesPerSecond, long spinNanos,
                          int units, boolean atomicHeadOfLine) {
        this(dilation, roundTripNanos, messageNanos, loopbackNanos, readWriteOpsPerSecond, atomicOpsPerSecond,
                sameAddressAtomicOpsPerSecond, bytesPerSecond, spinNanos, units, atomicHeadOfLine, DEFAULT_LOCAL_ACCESS_NANOS);
    }

    /** A CPU atomic on a cache line another core or the NIC wrote last: about 0.1 us. */
    public static final long DEFAULT_LOCAL_ACCESS_NANOS = 100;

    /** The published-measurement defaults (class comment) at dilation 200. */
    public static NicModelConfig defaults() {
        return new NicModelConfig(200, 2_000, 2_000, 1_000, 30e6, 10e6, 2.5e6, 7e9, 10_000, 4, false,
                DEFAULT_LOCAL_ACCESS_NANOS);
    }

    /**
     * The defaults with the given {@code key=value} overrides ({@link #KEYS}); an unknown key or a
     * malformed value raises {@link IllegalArgumentException} naming it.
     */
    public static NicModelConfig parse(Map<String, String> options) {
        NicModelConfig c = defaults();
        for (Map.Entry<String, String> e : options.entrySet()) {
            c = c.with(e.getKey(), e.getValue());
        }
        return c;
    }

    /** The {@code nic.*} keys of carrier options, without their prefix, over the defaults. */
    public static NicModelConfig fromCarrierOptions(CarrierOptions options) {
        Map<String, String> m = new TreeMap<>();
        for (Map.Entry<String, String> e : options.values().entrySet()) {
            if (e.getKey().startsWith("nic.")) {
                m.put(e.getKey().substring(4), e.getValue());
            }
        }
        return parse(m);
    }

    /** This configuration with one option changed. */
    public NicModelConfig with(String key, String value) {
        double v;
        try {
            v = Double.parseDouble(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("NIC model option " + key + "=" + value + " is not a number");
        }
        if (!Double.isFinite(v) || v < 0) {
            throw new IllegalArgumentException("NIC model option " + key + "=" + value + " must be a non-negative number");
        }
        long us = Math.round(v * 1e3);
        double dl = dilation;
        long rtt = roundTripNanos;
        long msg = messageNanos;
        long lb = loopbackNanos;
        double rw = readWriteOpsPerSecond;
        double at = atomicOpsPerSecond;
        double one = sameAddressAtomicOpsPerSecond;
        double bw = bytesPerSecond;
        long spin = spinNanos;
        int u = units;
        boolean hol = atomicHeadOfLine;
        long local = localAccessNanos;
        switch (key.trim()) {
            case "dilation" -> dl = v;
            case "rtt-us" -> rtt = us;
            case "message-us" -> msg = us;
            case "loopback-us" -> lb = us;
            case "rw-mops" -> rw = v * 1e6;
            case "atomic-mops" -> at = v * 1e6;
            case "same-address-mops" -> one = v * 1e6;
            case "gbytes" -> bw = v * 1e9;
            case "spin-us" -> spin = us;
            case "local-us" -> local = us;
            case "units" -> {
                if (v != Math.rint(v)) {
                    throw new IllegalArgumentException("NIC model option units=" + value + " is not a whole number");
                }
                u = (int) Math.min(v, Integer.MAX_VALUE);
            }
            case "atomic-hol" -> {
                if (v != 0 && v != 1) {
                    throw new IllegalArgumentException("NIC model option atomic-hol=" + value + " must be 0 or 1");
                }
                hol = v == 1;
            }
            default -> throw new IllegalArgumentException("unknown NIC model option " + key + " (known: "
                    + String.join(", ", keys()) + ")");
        }
        return new NicModelConfig(dl, rtt, msg, lb, rw, at, one, bw, spin, u, hol, local);
    }

    public static Set<String> keys() {
        return new TreeMap<>(KEYS).keySet();
    }

    private long dilated(double undilatedNanos) {
        return Math.round(undilatedNanos * dilation);
    }

    /** Wall-clock nanoseconds of one link's one-way trip (half the round trip), dilated. */
    public long oneWayNanos() {
        return dilated(roundTripNanos / 2.0);
    }

    /** Wall-clock nanoseconds of a loopback verb's one-way trip, dilated. */
    public long loopbackOneWayNanos() {
        return dilated(loopbackNanos / 2.0);
    }

    /** Wall-clock time of one CPU access to the memory node on a compute node's own host, dilated. */
    public long localAccessWallNanos() {
        return dilated(localAccessNanos);
    }

    /** Wall-clock delivery time of a compute-node message, dilated. */
    public long messageWallNanos() {
        return dilated(messageNanos);
    }

    /**
     * Wall-clock service time of one READ or WRITE of {@code bytes} on one of the NIC's
     * {@link #units}, dilated: the larger of the per-verb time and the bytes over the bandwidth,
     * times the units (each unit serves its share of the rate).
     */
    public long readWriteServiceNanos(int bytes) {
        return dilated(units * Math.max(1e9 / readWriteOpsPerSecond, bytes * 1e9 / bytesPerSecond));
    }

    /** Wall-clock service time of one CAS or FAA on one of the NIC's {@link #units}, dilated. */
    public long atomicServiceNanos() {
        return dilated(units * 1e9 / atomicOpsPerSecond);
    }

    /** Wall-clock gap between two atomics on one address, dilated. */
    public long sameAddressGapNanos() {
        return dilated(1e9 / sameAddressAtomicOpsPerSecond);
    }

    /** One line for every figure taken with this model. */
    public String describe() {
        return String.format(Locale.ROOT, "MODELLED NIC (time dilation %.0fx: every delay x%.0f, every rate /%.0f): "
                        + "RTT %.2f us, CN message %.2f us, loopback %.2f us, READ/WRITE %.1f Mops, atomics %.1f Mops, "
                        + "one address %.2f Mops, %.1f GB/s, %d unit%s, contended atomics %s, local CPU access %.2f us"
                        + " (undilated)", dilation, dilation,
                dilation, roundTripNanos / 1e3, messageNanos / 1e3, loopbackNanos / 1e3, readWriteOpsPerSecond / 1e6,
                atomicOpsPerSecond / 1e6, sameAddressAtomicOpsPerSecond / 1e6, bytesPerSecond / 1e9, units,
                units == 1 ? "" : "s", atomicHeadOfLine ? "hold their unit (head-of-line)" : "wait aside",
                localAccessNanos / 1e3);
    }

    /** The parameters as a map for JSON reports. */
    public Map<String, Object> asMap() {
        Map<String, Object> m = new TreeMap<>();
        m.put("dilation", dilation);
        m.put("rtt_us", roundTripNanos / 1e3);
        m.put("message_us", messageNanos / 1e3);
        m.put("loopback_us", loopbackNanos / 1e3);
        m.put("rw_mops", readWriteOpsPerSecond / 1e6);
        m.put("atomic_mops", atomicOpsPerSecond / 1e6);
        m.put("same_address_mops", sameAddressAtomicOpsPerSecond / 1e6);
        m.put("gbytes", bytesPerSecond / 1e9);
        m.put("spin_us", spinNanos / 1e3);
        m.put("units", units);
        m.put("atomic_hol", atomicHeadOfLine);
        m.put("local_us", localAccessNanos / 1e3);
        return m;
    }
}
