package io.dmtree.workloads.crashrounds;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One process of a crash round (a memory node or a compute node of this installation, started
 * with this JVM's java and classpath), its output collected as it comes (stdout and stderr
 * together). Every wait is bounded; {@link #kill} is SIGKILL to this child by its handle.
 */
final class RoundProcess implements AutoCloseable {
    private final String name;
    private final Process process;
    private final StringBuilder output = new StringBuilder();
    private volatile boolean drained;

    private RoundProcess(String name, Process process) {
        this.name = name;
        this.process = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String l;
                while ((l = r.readLine()) != null) {
                    synchronized (output) {
                        output.append(l).append('\n');
                        output.notifyAll();
                    }
                }
            } catch (IOException e) {
                // the process is gone
            }
            synchronized (output) {
                drained = true;
                output.notifyAll();
            }
        }, "crashrounds-output-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code main} with {@code args} in a new JVM of this installation. */
    static RoundProcess start(String name, String main, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), main));
        cmd.addAll(args);
        return new RoundProcess(name, new ProcessBuilder(cmd).redirectErrorStream(true).start());
    }

    String name() {
        return name;
    }

    String output() {
        synchronized (output) {
            return output.toString();
        }
    }

    /** The first line containing {@code marker}, waiting up to {@code seconds}; null when none came (or the output ended). */
    String awaitLine(String marker, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        synchronized (output) {
            while (true) {
                int at = output.indexOf(marker);
                if (at >= 0) {
                    int start = output.lastIndexOf("\n", at) + 1;
                    int end = output.indexOf("\n", at);
                    return output.substring(start, end < 0 ? output.length() : end);
                }
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0 || drained) {
                    return null;
                }
                output.wait(Math.min(left, 200));
            }
        }
    }

    /** The exit code, waiting up to {@code seconds}; -1 when it had not exited by then. */
    int awaitExit(int seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            return -1;
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        synchronized (output) {
            while (!drained && System.nanoTime() < deadline) {
                output.wait(50);
            }
        }
        return process.exitValue();
    }

    /** SIGKILL, at once; true when the process is gone within 10 s. */
    boolean kill() throws InterruptedException {
        process.destroyForcibly();
        return process.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
