package io.dmtree.workloads.ycsb;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The YCSB core workloads A to F: operation mix, request distribution and scan lengths.
 *
 * <pre>
 *   A  update heavy   50% read, 50% update                  zipfian
 *   B  read mostly    95% read,  5% update                  zipfian
 *   C  read only     100% read                              zipfian
 *   D  read latest    95% read,  5% insert                  latest
 *   E  short ranges   95% scan,  5% insert, length 1..100   zipfian (start), uniform (length)
 *   F  read-modify-w  50% read, 50% read-modify-write       zipfian
 * </pre>
 */
public enum CoreWorkload {
    A("update heavy", 0.50, 0.50, 0, 0, 0, RequestDistribution.ZIPFIAN),
    B("read mostly", 0.95, 0.05, 0, 0, 0, RequestDistribution.ZIPFIAN),
    C("read only", 1.00, 0, 0, 0, 0, RequestDistribution.ZIPFIAN),
    D("read latest", 0.95, 0, 0.05, 0, 0, RequestDistribution.LATEST),
    E("short ranges", 0, 0, 0.05, 0.95, 0, RequestDistribution.ZIPFIAN),
    F("read-modify-write", 0.50, 0, 0, 0, 0.50, RequestDistribution.ZIPFIAN);

    /** Scan lengths are uniform in {@code 1 .. MAX_SCAN_LENGTH}. */
    public static final int MAX_SCAN_LENGTH = 100;

    private final String title;
    private final double[] proportions;
    private final RequestDistribution distribution;

    CoreWorkload(String title, double read, double update, double insert, double scan, double readModifyWrite,
                 RequestDistribution distribution) {
        this.title = title;
        this.proportions = new double[]{read, update, insert, scan, readModifyWrite};
        this.distribution = distribution;
    }

    /** The workload named by one letter, either case. */
    public static CoreWorkload byName(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown workload '" + name + "'; known: A, B, C, D, E, F");
        }
    }

    public String title() {
        return title;
    }

    /** The share of operations of this type, in [0, 1]; the shares sum to 1. */
    public double proportion(OperationType type) {
        return proportions[type.ordinal()];
    }

    public RequestDistribution distribution() {
        return distribution;
    }

    /** Operation types this workload issues, in {@link OperationType} order. */
    public List<OperationType> operationTypes() {
        List<OperationType> out = new ArrayList<>();
        for (OperationType t : OperationType.values()) {
            if (proportion(t) > 0) {
                out.add(t);
            }
        }
        return out;
    }

    /** For example "50% read, 50% update". */
    public String mix() {
        List<String> parts = new ArrayList<>();
        for (OperationType t : operationTypes()) {
            parts.add(Math.round(proportion(t) * 100) + "% " + t.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        }
        return String.join(", ", parts);
    }
}
