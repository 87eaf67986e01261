package io.dmtree.workloads.mnload;

import io.dmtree.core.wire.HostPort;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real {@code dmtree mn} process on loopback (tcp carrier, a fresh directory for its id lock),
 * started with this JVM's classpath, and its resident memory and thread count as the kernel
 * reports them ({@code VmRSS} and {@code Threads} of {@code /proc/PID/status}). Its output is
 * forwarded to stderr with a prefix once it is ready; {@link #close()} stops it with SIGTERM
 * (SIGKILL if it does not exit within 10 s) and removes the directory.
 */
final class MemoryNodeProcess implements AutoCloseable {
    private static final Pattern ADDRESS = Pattern.compile("address=(\\S+)");
    private final Process process;
    private final Path dir;
    private final InetSocketAddress address;
    private final String readyLine;

    /** A snapshot of {@code /proc/PID/status}. */
    record Sample(long rssKib, int threads) {
    }

    private MemoryNodeProcess(Process process, Path dir, InetSocketAddress address, String readyLine) {
        this.process = process;
        this.dir = dir;
        this.address = address;
        this.readyLine = readyLine;
    }

    /** Starts the memory node and waits (at most 60 s) for its ready line. */
    static MemoryNodeProcess start(List<String> jvmOptions, List<String> mnArgs, PrintStream log) throws IOException {
        if (!Files.isReadable(Path.of("/proc/self/status"))) {
            throw new IllegalStateException("dmtree mnload measures through /proc/PID/status, which this system does not have");
        }
        Path dir = Files.createTempDirectory("dmtree-mnload");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("io.dmtree.mn.MemoryNodeCommand");
        // --secret none: the load's raw connections say HELLO only, and the figure is the front door's own memory
        cmd.addAll(List.of("--id", "0", "--listen", "127.0.0.1:0", "--transport", "tcp", "--dir", dir.toString(),
                "--secret", "none"));
        cmd.addAll(mnArgs);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder early = new StringBuilder();
        CompletableFuture<String> ready = CompletableFuture.supplyAsync(() -> {
            try {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.contains(" ready")) {
                        return line;
                    }
                    early.append(line).append('\n');
                }
                return null;
            } catch (IOException e) {
                return null;
            }
        });
        String line;
        try {
            line = ready.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            line = null;
        }
        if (line == null) {
            stop(p);
            deleteQuietly(dir);
            throw new IllegalStateException("the memory node did not start: " + early.toString().trim());
        }
        Matcher m = ADDRESS.matcher(line);
        if (!m.find()) {
            stop(p);
            deleteQuietly(dir);
            throw new IllegalStateException("the memory node's ready line names no address: " + line);
        }
        InetSocketAddress address = HostPort.parse("memory node address", m.group(1));
        Thread forward = new Thread(() -> {
            try {
                String l;
                while ((l = out.readLine()) != null) {
                    log.println("mn| " + l);
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "mnload-mn-output");
        forward.setDaemon(true);
        forward.start();
        return new MemoryNodeProcess(p, dir, address, line);
    }

    InetSocketAddress address() {
        return address;
    }

    long pid() {
        return process.pid();
    }

    String readyLine() {
        return readyLine;
    }

    Sample sample() throws IOException {
        if (!process.isAlive()) {
            throw new IllegalStateException("the memory node exited with code " + process.exitValue());
        }
        long rss = -1;
        int threads = -1;
        for (String l : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (l.startsWith("VmRSS:")) {
                rss = Long.parseLong(l.substring(6).trim().split("\\s+")[0]);
            } else if (l.startsWith("Threads:")) {
                threads = Integer.parseInt(l.substring(8).trim());
            }
        }
        if (rss < 0 || threads < 0) {
            throw new IllegalStateException("/proc/" + process.pid() + "/status has no VmRSS or Threads line");
        }
        return new Sample(rss, threads);
    }

    @Override
    public void close() {
        stop(process);
        deleteQuietly(dir);
    }

    private static void stop(Process p) {
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private static void deleteQuietly(Path dir) {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            System.err.println("dmtree mnload: could not remove " + dir + ": " + e.getMessage());
        }
    }
}
