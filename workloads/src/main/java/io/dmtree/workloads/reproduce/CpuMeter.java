package io.dmtree.workloads.reproduce;

import java.lang.management.ManagementFactory;

/**
 * The cores this JVM kept busy over an interval (process CPU time over wall time): printed beside
 * every modelled figure, so a reader sees whether the model or the host's cores set the pace (near
 * the host's core count, the cores did, and the figure says less about the model).
 */
final class CpuMeter {
    private final long cpu0;
    private final long wall0;

    private CpuMeter(long cpu0, long wall0) {
        this.cpu0 = cpu0;
        this.wall0 = wall0;
    }

    static CpuMeter start() {
        return new CpuMeter(cpuNanos(), System.nanoTime());
    }

    /** Busy cores since {@link #start}, or -1 where the JVM does not report process CPU time. */
    double busyCores() {
        long cpu = cpuNanos();
        long wall = System.nanoTime() - wall0;
        return cpu < 0 || cpu0 < 0 || wall <= 0 ? -1 : (double) (cpu - cpu0) / wall;
    }

    private static long cpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }
}
