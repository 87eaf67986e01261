package io.dmtree.workloads.hosts;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Hosts for multi-host tests, made of Linux network namespaces on this machine: host {@code i}
 * is namespace {@code dmtree-PID-N-hI} with one interface {@code eth0} at
 * {@code 198.18.0.(i+1)/24} (the benchmarking range of RFC 2544, used only inside these
 * namespaces) and loopback up; every host's {@code eth0} is one end of a veth pair whose other
 * end is a port of a bridge in a namespace of its own ({@code dmtree-PID-N-sw}), so the hosts
 * form one LAN that touches no interface, route or firewall rule of this machine. Traffic sent
 * to those addresses never leaves the namespaces.
 *
 * <p>{@link #close()} ends every process started through {@link #start} (by pid, descendants
 * first), then deletes every namespace (which destroys their veths and the bridge). It runs from
 * a JVM shutdown hook too, so an interrupted test leaves nothing; names carry this JVM's pid and
 * a counter, so cleanup never touches anything it did not make.
 */
final class NetnsHosts implements AutoCloseable {
    /** The first three bytes of every host's address. */
    static final String SUBNET = "198.18.0.";
    private static final AtomicInteger SEQUENCE = new AtomicInteger();
    private static final int COMMAND_SECONDS = 20;

    private final String prefix;
    private final int hosts;
    private final List<String> namespaces = new ArrayList<>();
    private final List<Process> processes = new ArrayList<>();
    private final Thread hook;
    private boolean closed;

    private NetnsHosts(int hosts) {
        this.prefix = "dmtree-" + ProcessHandle.current().pid() + "-" + SEQUENCE.incrementAndGet();
        this.hosts = hosts;
        this.hook = new Thread(this::close, prefix + "-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /**
     * Why namespaces cannot be made here (not Linux, no {@code ip}, no permission), or null when
     * they can: tries to add and delete one namespace of its own.
     */
    static String unavailableReason() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return "network namespaces need Linux; this is " + System.getProperty("os.name");
        }
        if (ip() == null) {
            return "no 'ip' command (Debian: apt-get install iproute2; scripts/test installs it when run as root)";
        }
        String probe = "dmtree-" + ProcessHandle.current().pid() + "-probe-" + SEQUENCE.incrementAndGet();
        try {
            Result add = run(List.of(ip(), "netns", "add", probe));
            if (add.code != 0) {
                return "cannot make a network namespace ('ip netns add' said: " + add.output.strip()
                        + "); the multi-host tests need root (CI runs as root)";
            }
            Result del = run(List.of(ip(), "netns", "del", probe));
            if (del.code != 0) {
                return "made a network namespace but cannot delete it: " + del.output.strip();
            }
            return null;
        } catch (IOException e) {
            return "cannot run 'ip': " + e.getMessage();
        }
    }

    /** Makes {@code hosts} hosts on one bridge; removes whatever it made if a step fails. */
    static NetnsHosts create(int hosts) throws IOException {
        if (hosts < 1 || hosts > 200) {
            throw new IllegalArgumentException("hosts must be in [1, 200]: " + hosts);
        }
        NetnsHosts h = new NetnsHosts(hosts);
        try {
            String sw = h.prefix + "-sw";
            h.namespace(sw);
            h.must(ip(), "-n", sw, "link", "add", "br0", "type", "bridge");
            h.must(ip(), "-n", sw, "link", "set", "br0", "up");
            for (int i = 0; i < hosts; i++) {
                String ns = h.name(i);
                h.namespace(ns);
                h.must(ip(), "-n", sw, "link", "add", "h" + i, "type", "veth", "peer", "name", "eth0", "netns", ns);
                h.must(ip(), "-n", sw, "link", "set", "h" + i, "master", "br0", "up");
                h.must(ip(), "-n", ns, "addr", "add", h.address(i) + "/24", "dev", "eth0");
                h.must(ip(), "-n", ns, "link", "set", "eth0", "up");
                h.must(ip(), "-n", ns, "link", "set", "lo", "up");
            }
            return h;
        } catch (IOException | RuntimeException e) {
            h.close();
            throw e;
        }
    }

    /** Host {@code i}'s namespace. */
    String name(int host) {
        check(host);
        return prefix + "-h" + host;
    }

    /** Host {@code i}'s address. */
    String address(int host) {
        check(host);
        return SUBNET + (host + 1);
    }

    /** Every namespace made so far (switch first). */
    synchronized List<String> namespaces() {
        return List.copyOf(namespaces);
    }

    /** Whether {@code tc qdisc add ... netem} works on host {@code i}'s interface (this kernel may lack netem). */
    boolean netemWorks(int host) throws IOException {
        Result r = run(List.of(ip(), "netns", "exec", name(host), "tc", "qdisc", "add", "dev", "eth0", "root", "netem",
                "delay", "100us"));
        if (r.code == 0) {
            run(List.of(ip(), "netns", "exec", name(host), "tc", "qdisc", "del", "dev", "eth0", "root"));
            return true;
        }
        return false;
    }

    /** Starts {@code command} on host {@code i}, its stdout and stderr going to {@code log}. */
    synchronized Process start(int host, List<String> command, Path log) throws IOException {
        if (closed) {
            throw new IllegalStateException("hosts removed already");
        }
        List<String> full = new ArrayList<>(List.of(ip(), "netns", "exec", name(host)));
        full.addAll(command);
        Process p = new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        processes.add(p);
        return p;
    }

    /** Ends every process started here, then deletes every namespace; idempotent. */
    @Override
    public void close() {
        List<Process> toEnd;
        List<String> toDelete;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toEnd = new ArrayList<>(processes);
            toDelete = new ArrayList<>(namespaces);
        }
        for (Process p : toEnd) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : toEnd) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (int i = toDelete.size() - 1; i >= 0; i--) {
            try {
                Result r = run(List.of(ip(), "netns", "del", toDelete.get(i)));
                if (r.code != 0) {
                    System.err.println("dmtree test: could not delete namespace " + toDelete.get(i) + ": " + r.output.strip());
                }
            } catch (IOException e) {
                System.err.println("dmtree test: could not delete namespace " + toDelete.get(i) + ": " + e.getMessage());
            }
        }
        if (Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook runs (or ran) this anyway
            }
        }
    }

    /** Namespaces of this machine whose names start with this fixture's prefix (empty once closed). */
    List<String> leftOver() throws IOException {
        Result r = run(List.of(ip(), "netns", "list"));
        List<String> left = new ArrayList<>();
        for (String line : r.output.split("\n")) {
            String name = line.strip().split(" ")[0];
            if (name.startsWith(prefix + "-")) {
                left.add(name);
            }
        }
        return left;
    }

    private void check(int host) {
        if (host < 0 || host >= hosts) {
            throw new IllegalArgumentException("no host " + host + " (" + hosts + " hosts)");
        }
    }

    private void namespace(String name) throws IOException {
        must(ip(), "netns", "add", name);
        synchronized (this) {
            namespaces.add(name);
        }
    }

    private void must(String... command) throws IOException {
        Result r = run(List.of(command));
        if (r.code != 0) {
            throw new IOException("'" + String.join(" ", command) + "' failed (" + r.code + "): " + r.output.strip());
        }
    }

    private record Result(int code, String output) {
    }

    /** Runs a short command, bounded in time. */
    private static Result run(List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("'" + String.join(" ", command) + "' did not finish in " + COMMAND_SECONDS + " s");
            }
            return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + command.get(0));
        }
    }

    private static String ip() {
        for (String dir : (System.getenv().getOrDefault("PATH", "") + File.pathSeparator + "/usr/sbin:/sbin:/usr/bin:/bin")
                .split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, "ip");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        return null;
    }
}
