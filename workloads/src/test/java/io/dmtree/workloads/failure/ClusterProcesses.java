package io.dmtree.workloads.failure;

import io.dmtree.mn.MemoryNodeCommand;
import io.dmtree.workloads.cli.DmtreeCli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Real memory-node and compute-node processes for failure tests: started with this JVM's classpath,
 * their output collected as it comes, signalled by pid (SIGKILL, SIGSTOP, SIGCONT), and every one
 * of them destroyed by {@link #close()}. Every wait is bounded.
 */
final class ClusterProcesses implements AutoCloseable {
    private final List<Node> nodes = new ArrayList<>();

    /** One process and everything it printed (stdout and stderr together). */
    static final class Node {
        final String name;
        final Process process;
        private final StringBuilder output = new StringBuilder();
        private volatile boolean drained;

        Node(String name, Process process) {
            this.name = name;
            this.process = process;
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
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
            }, "output-" + name);
            reader.setDaemon(true);
            reader.start();
        }

        String output() {
            synchronized (output) {
                return output.toString();
            }
        }

        /** Waits up to {@code seconds} for a line containing {@code marker}; returns that line. */
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
                        throw new AssertionError(name + ": no line with '" + marker + "' within " + seconds + " s"
                                + (drained ? " (its output ended)" : "") + ":\n" + output);
                    }
                    output.wait(Math.min(left, 200));
                }
            }
        }

        /** Waits up to {@code seconds} for the process to exit; returns its exit code. */
        int awaitExit(int seconds) throws InterruptedException {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                throw new AssertionError(name + " did not exit within " + seconds + " s:\n" + output());
            }
            Thread.sleep(50);
            return process.exitValue();
        }

        long pid() {
            return process.pid();
        }

        /** The process's standard input, for line commands ({@code dmtree cn --serve}). */
        java.io.PrintWriter stdin() {
            synchronized (this) {
                if (stdin == null) {
                    stdin = new java.io.PrintWriter(new java.io.OutputStreamWriter(process.getOutputStream(),
                            StandardCharsets.UTF_8), true);
                }
                return stdin;
            }
        }

        private java.io.PrintWriter stdin;

        /** Sends {@code command} and waits up to {@code seconds} for the next line after what was printed so far. */
        String ask(String command, int seconds) throws InterruptedException {
            int from;
            synchronized (output) {
                from = output.length();
            }
            stdin().println(command);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            synchronized (output) {
                while (true) {
                    int end = output.indexOf("\n", from);
                    while (end >= 0 && output.substring(from, end).startsWith("dmtree")) { // log lines are not answers
                        from = end + 1;
                        end = output.indexOf("\n", from);
                    }
                    if (end >= 0) {
                        return output.substring(from, end);
                    }
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (left <= 0 || drained) {
                        throw new AssertionError(name + ": no answer to '" + command + "' within " + seconds + " s:\n" + output);
                    }
                    output.wait(Math.min(left, 200));
                }
            }
        }

        void signal(String signal) throws IOException, InterruptedException {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new AssertionError("kill -" + signal + " " + process.pid() + " failed");
            }
        }

        /** SIGKILL to this process (our own child, by its pid), at once; waits until it is gone. */
        void kill() throws IOException, InterruptedException {
            process.destroyForcibly(); // SIGKILL on Linux, without starting a kill(1) process first
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new AssertionError(name + " survived SIGKILL");
            }
        }
    }

    static String classpath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    Node java(String name, String main, List<String> args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classpath(), main));
        cmd.addAll(args);
        Node n = new Node(name, new ProcessBuilder(cmd).redirectErrorStream(true).start());
        synchronized (nodes) {
            nodes.add(n);
        }
        return n;
    }

    /** The cluster secret's file from memory node 0's ready line, passed to every later node; null before. */
    private volatile String secretFile;

    /**
     * A memory node; waits for its ready line. The first one that names its cluster secret
     * ({@code secret=PATH}) sets the secret every later node proves, unless its arguments name one.
     */
    Node memoryNode(String name, List<String> args) throws IOException, InterruptedException {
        Node n = java(name, MemoryNodeCommand.class.getName(), withSecret(args));
        String ready = n.awaitLine(" ready", 90);
        if (secretFile == null && ready.contains(" secret=")) {
            secretFile = field(ready, "secret");
        }
        return n;
    }

    Node computeNode(String name, List<String> args) throws IOException {
        List<String> all = new ArrayList<>();
        all.add("cn");
        all.addAll(withSecret(args));
        return java(name, DmtreeCli.class.getName(), all);
    }

    private List<String> withSecret(List<String> args) {
        String s = secretFile;
        if (s == null || args.contains("--secret")) {
            return args;
        }
        List<String> all = new ArrayList<>(args);
        all.add("--secret");
        all.add(s);
        return all;
    }

    /** The value of {@code key=} in a ready line. */
    static String field(String line, String key) {
        for (String part : line.split(" ")) {
            if (part.startsWith(key + "=")) {
                return part.substring(key.length() + 1);
            }
        }
        throw new AssertionError("no " + key + "= in: " + line);
    }

    @Override
    public void close() {
        synchronized (nodes) {
            for (Node n : nodes) {
                if (n.process.isAlive()) {
                    try {
                        n.signal("CONT"); // a stopped process cannot act on SIGKILL's cleanup otherwise
                    } catch (IOException | InterruptedException | AssertionError e) {
                        // gone already
                    }
                }
                n.process.descendants().forEach(ProcessHandle::destroyForcibly);
                n.process.destroyForcibly();
            }
        }
    }
}
