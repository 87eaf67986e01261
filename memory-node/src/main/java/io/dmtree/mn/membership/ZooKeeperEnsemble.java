package io.dmtree.mn.membership;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * ZooKeeper servers as separate processes on this host ({@link EnsembleServer}), for scripts and
 * tests: {@code size} 1 gives a single server, 3 an ensemble. Knows each server's pid, so it can
 * kill one (SIGKILL), restart it on its data, ask who leads ({@code srvr}), and end every process
 * it started, by pid, on {@link #close()} (and removes its directory if it made it).
 *
 * <p>As a program: {@code java -cp CLASSPATH io.dmtree.mn.membership.ZooKeeperEnsemble [SIZE [DIR]]}
 * starts SIZE servers (default 3), prints {@code zookeeper ensemble ready connect=...}, and stops
 * them all on SIGTERM or SIGINT.
 */
public final class ZooKeeperEnsemble implements AutoCloseable {
    private final Path dir;
    private final boolean temporary;
    private final int tick;
    private final String classpath;
    private final int[] clientPorts;
    private final String servers;
    private final Process[] processes;

    private ZooKeeperEnsemble(Path dir, boolean temporary, int size, int tick, String classpath) throws IOException {
        this.dir = dir;
        this.temporary = temporary;
        this.tick = tick;
        this.classpath = classpath;
        this.clientPorts = new int[size];
        this.processes = new Process[size];
        StringJoiner s = new StringJoiner(",");
        int[] ports = freePorts(3 * size);
        for (int i = 0; i < size; i++) {
            clientPorts[i] = ports[3 * i];
            s.add("127.0.0.1:" + ports[3 * i + 1] + ":" + ports[3 * i + 2]);
        }
        this.servers = size == 1 ? "" : s.toString();
    }

    /**
     * Starts {@code size} servers with data under {@code dir} (null: a temporary directory, removed
     * on close) and waits up to {@code timeout} until every one serves.
     */
    public static ZooKeeperEnsemble start(int size, Path dir, int tickMillis, String classpath, Duration timeout)
            throws IOException, InterruptedException {
        if (size < 1 || size > 7) {
            throw new IllegalArgumentException("ensemble of " + size + " servers is outside [1, 7]");
        }
        boolean temporary = dir == null;
        Path d = temporary ? Files.createTempDirectory("dmtree-zk-ensemble-") : Files.createDirectories(dir);
        ZooKeeperEnsemble e = new ZooKeeperEnsemble(d, temporary, size, tickMillis, classpath);
        try {
            for (int i = 0; i < size; i++) {
                e.launch(i);
            }
            e.awaitServing(timeout);
            return e;
        } catch (IOException | InterruptedException | RuntimeException x) {
            e.close();
            throw x;
        }
    }

    /** The classpath of this JVM (a test's, when run by surefire). */
    public static String ownClasspath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    private void launch(int i) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classpath,
                EnsembleServer.class.getName(), "--dir", dir.resolve("server-" + (i + 1)).toString(),
                "--client-port", String.valueOf(clientPorts[i]), "--tick", String.valueOf(tick)));
        if (!servers.isEmpty()) {
            cmd.addAll(List.of("--id", String.valueOf(i + 1), "--servers", servers));
        }
        Path log = dir.resolve("server-" + (i + 1) + ".log");
        processes[i] = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** Waits until every running server answers {@code srvr} as leader, follower or standalone. */
    public void awaitServing(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (int i = 0; i < processes.length; i++) {
            if (processes[i] == null || !processes[i].isAlive()) {
                continue;
            }
            while (mode(i) == null) {
                if (!processes[i].isAlive()) {
                    throw new IllegalStateException("ZooKeeper server " + (i + 1) + " exited with " + processes[i].exitValue()
                            + "; its log: " + dir.resolve("server-" + (i + 1) + ".log"));
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("ZooKeeper server " + (i + 1) + " did not serve within "
                            + timeout.toMillis() + " ms; its log: " + dir.resolve("server-" + (i + 1) + ".log"));
                }
                Thread.sleep(20);
            }
        }
    }

    /** {@code 127.0.0.1:p1,127.0.0.1:p2,...} */
    public String connectString() {
        StringJoiner s = new StringJoiner(",");
        for (int p : clientPorts) {
            s.add("127.0.0.1:" + p);
        }
        return s.toString();
    }

    public int size() {
        return processes.length;
    }

    public int clientPort(int i) {
        return clientPorts[i];
    }

    public long pid(int i) {
        return processes[i].pid();
    }

    public boolean alive(int i) {
        return processes[i] != null && processes[i].isAlive();
    }

    /** {@code leader}, {@code follower}, {@code standalone}, or null if server {@code i} does not serve. */
    public String mode(int i) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), clientPorts[i]), 500);
            s.setSoTimeout(1_000);
            OutputStream out = s.getOutputStream();
            out.write("srvr".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String reply = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
            for (String line : reply.split("\n")) {
                if (line.startsWith("Mode: ")) {
                    return line.substring("Mode: ".length()).trim();
                }
            }
            return null;
        } catch (IOException e) {
            return null;
        }
    }

    /** The index of the serving leader, or -1. */
    public int leader() {
        for (int i = 0; i < processes.length; i++) {
            if ("leader".equals(mode(i))) {
                return i;
            }
        }
        return -1;
    }

    /** SIGKILL to server {@code i}, by its pid; waits for it to be gone. */
    public void kill(int i) throws InterruptedException {
        ProcessHandle.of(processes[i].pid()).ifPresent(ProcessHandle::destroyForcibly);
        if (!processes[i].waitFor(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("ZooKeeper server " + (i + 1) + " (pid " + processes[i].pid()
                    + ") outlived SIGKILL by 10 s");
        }
    }

    /** Starts server {@code i} again on its data directory and ports. */
    public void restart(int i) throws IOException {
        if (alive(i)) {
            throw new IllegalStateException("ZooKeeper server " + (i + 1) + " is running");
        }
        launch(i);
    }

    @Override
    public void close() {
        for (Process p : processes) {
            if (p != null && p.isAlive()) {
                ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroy); // SIGTERM first
            }
        }
        for (Process p : processes) {
            if (p == null) {
                continue;
            }
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
                    p.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ProcessHandle.of(p.pid()).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        if (temporary) {
            EmbeddedZooKeeper.deleteTree(dir);
        }
    }

    private static int[] freePorts(int n) throws IOException {
        int[] ports = new int[n];
        List<ServerSocket> held = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                held.add(s);
                ports[i] = s.getLocalPort();
            }
        } finally {
            for (ServerSocket s : held) {
                s.close();
            }
        }
        return ports;
    }

    public static void main(String[] args) throws Exception {
        int size = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        Path dir = args.length > 1 ? Path.of(args[1]) : null;
        ZooKeeperEnsemble e = start(size, dir, EmbeddedZooKeeper.DEFAULT_TICK_MILLIS, ownClasspath(), Duration.ofSeconds(60));
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            e.close();
            stop.countDown();
        }));
        System.out.println("zookeeper ensemble ready connect=" + e.connectString());
        System.out.flush();
        stop.await();
    }
}
