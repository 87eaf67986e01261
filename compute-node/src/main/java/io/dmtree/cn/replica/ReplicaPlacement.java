package io.dmtree.cn.replica;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Where each region's replicas live: for every region the tree addresses (the memory-node field of
 * a {@link io.dmtree.core.memory.GlobalAddress}), the memory-node processes holding it, primary
 * first, and the configuration epoch in which this placement holds. Immutable; a failover makes a
 * new placement with the epoch one larger ({@link #withoutReplica}).
 *
 * <p>The first placement ({@link #grouped}) puts region {@code g} on memory nodes
 * {@code g*R .. g*R+R-1}, its primary on {@code g*R}: every memory node holds exactly one region,
 * so a mirror's copy of a region sits at the same offsets as the primary's.
 *
 * <p>Its text form (a cluster-configuration value, {@link #toConfigValue}/{@link #parse}):
 * {@code epoch;r0p,r0m1,...;r1p,r1m1,...}, e.g. {@code 1;0,1;2,3} for two regions of two replicas.
 */
public final class ReplicaPlacement {
    /** The cluster-configuration key under which the placement is kept. */
    public static final String CONFIG_KEY = "replica.placement";
    public static final int MAX_REPLICAS = 3;

    private final long epoch;
    private final int[][] replicas;

    private ReplicaPlacement(long epoch, int[][] replicas) {
        if (epoch < 1) {
            throw new IllegalArgumentException("placement epoch must be at least 1: " + epoch);
        }
        if (replicas.length == 0) {
            throw new IllegalArgumentException("a placement needs at least one region");
        }
        boolean[] seen = new boolean[1 << 16];
        for (int r = 0; r < replicas.length; r++) {
            if (replicas[r].length == 0) {
                throw new IllegalArgumentException("region " + r + " has no replica left");
            }
            for (int mn : replicas[r]) {
                if (mn < 0 || mn >= seen.length) {
                    throw new IllegalArgumentException("memory node id out of range: " + mn);
                }
                if (seen[mn]) {
                    throw new IllegalArgumentException("memory node " + mn + " holds two replicas");
                }
                seen[mn] = true;
            }
        }
        this.epoch = epoch;
        this.replicas = replicas;
    }

    /** {@code regions} regions of {@code replicas} replicas each on memory nodes {@code 0 .. regions*replicas-1}. */
    public static ReplicaPlacement grouped(int regions, int replicas) {
        if (replicas < 1 || replicas > MAX_REPLICAS) {
            throw new IllegalArgumentException("replicas must be 1, 2 or 3: " + replicas);
        }
        if (regions < 1) {
            throw new IllegalArgumentException("regions must be at least 1: " + regions);
        }
        int[][] sets = new int[regions][replicas];
        for (int g = 0; g < regions; g++) {
            for (int k = 0; k < replicas; k++) {
                sets[g][k] = g * replicas + k;
            }
        }
        return new ReplicaPlacement(1, sets);
    }

    public long epoch() {
        return epoch;
    }

    public int regions() {
        return replicas.length;
    }

    /** Replicas of {@code region} in this epoch, the primary included. */
    public int replicaCount(int region) {
        return set(region).length;
    }

    /** The memory node of replica {@code k} of {@code region}; {@code k = 0} is the primary. */
    public int replica(int region, int k) {
        return set(region)[k];
    }

    public int primary(int region) {
        return set(region)[0];
    }

    /** One more than the largest memory-node id in the placement. */
    public int memoryNodeBound() {
        int max = -1;
        for (int[] s : replicas) {
            for (int mn : s) {
                max = Math.max(max, mn);
            }
        }
        return max + 1;
    }

    /** The region {@code mn} holds a replica of, or -1. */
    public int regionOf(int mn) {
        for (int r = 0; r < replicas.length; r++) {
            for (int m : replicas[r]) {
                if (m == mn) {
                    return r;
                }
            }
        }
        return -1;
    }

    /**
     * The next epoch's placement with memory node {@code mn} removed from its region: if it was the
     * primary, the first mirror becomes primary. Throws when it held the region's last replica.
     */
    public ReplicaPlacement withoutReplica(int mn) {
        int region = regionOf(mn);
        if (region < 0) {
            throw new IllegalArgumentException("memory node " + mn + " holds no replica in epoch " + epoch);
        }
        int[] old = replicas[region];
        if (old.length == 1) {
            throw new IllegalStateException("memory node " + mn + " holds the last replica of region " + region
                    + ": its data is lost");
        }
        int[][] next = replicas.clone();
        int[] left = new int[old.length - 1];
        int j = 0;
        for (int m : old) {
            if (m != mn) {
                left[j++] = m;
            }
        }
        next[region] = left;
        return new ReplicaPlacement(epoch + 1, next);
    }

    private int[] set(int region) {
        if (region < 0 || region >= replicas.length) {
            throw new IllegalArgumentException("no region " + region + "; the placement has " + replicas.length);
        }
        return replicas[region];
    }

    public String toConfigValue() {
        StringBuilder b = new StringBuilder().append(epoch);
        for (int[] s : replicas) {
            b.append(';');
            for (int k = 0; k < s.length; k++) {
                b.append(k == 0 ? "" : ",").append(s[k]);
            }
        }
        return b.toString();
    }

    public static ReplicaPlacement parse(String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("empty replica placement");
        }
        String[] parts = value.trim().split(";");
        if (parts.length < 2) {
            throw new IllegalArgumentException("replica placement '" + value + "' names no region (want epoch;p,m,...;...)");
        }
        try {
            long epoch = Long.parseLong(parts[0]);
            List<int[]> sets = new ArrayList<>();
            for (int i = 1; i < parts.length; i++) {
                sets.add(Arrays.stream(parts[i].split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray());
            }
            return new ReplicaPlacement(epoch, sets.toArray(new int[0][]));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("replica placement '" + value + "' is not epoch;p,m,...;...: " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return toConfigValue();
    }
}
