package io.dmtree.mn;

import io.dmtree.core.membership.FenceBook;
import io.dmtree.core.membership.Lease;
import io.dmtree.core.membership.Member;
import io.dmtree.core.membership.MemberId;
import io.dmtree.core.membership.MemberKind;
import io.dmtree.core.membership.MembershipOptions;
import io.dmtree.core.wire.ClientHandshake;
import io.dmtree.core.wire.ClusterSecret;
import io.dmtree.core.wire.ErrorCode;
import io.dmtree.core.wire.ErrorReply;
import io.dmtree.core.wire.FrameChannel;
import io.dmtree.core.wire.FrameHeader;
import io.dmtree.core.wire.FrameReader;
import io.dmtree.core.wire.FrameWriter;
import io.dmtree.core.wire.HelloFrame;
import io.dmtree.core.wire.HostPort;
import io.dmtree.core.wire.RegionDescription;
import io.dmtree.mn.control.Coordination;
import io.dmtree.mn.membership.ZooKeeperEnsemble;
import io.dmtree.mn.membership.ZooKeeperFenceBook;
import io.dmtree.mn.membership.ZooKeeperMembership;
import io.dmtree.mn.membership.ZooKeeperMembershipOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code dmtree mn} with membership, as processes: memory node 0 runs its own ZooKeeper and prints
 * {@code zk=}, writes the lease length into the cluster configuration and describes its region
 * with the coordination service; memory node 1 joins with {@code --zk}, and without it refuses to
 * start (exit 2, saying what to pass). A compute node's lease ending reaches every memory node,
 * which requests its fence, fences it (its tcp HELLO is refused as FENCED afterwards) and
 * acknowledges. Memory node 0's ZooKeeper stops with it.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MemoryNodeMembershipProcessTest {
    private static final Pattern ADDRESS = Pattern.compile(" address=(\\S+)");
    private static final Pattern ZK = Pattern.compile(" zk=(\\S+)");

    @TempDir
    Path dir;

    private record Node(Process process, String ready, StringBuilder log) {
        String address() {
            return group(ADDRESS, ready);
        }

        String zk() {
            return group(ZK, ready);
        }
    }

    private static String group(Pattern p, String line) {
        Matcher m = p.matcher(line);
        assertTrue(m.find(), p + " in " + line);
        return m.group(1);
    }

    private Node start(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", ZooKeeperEnsemble.ownClasspath(),
                MemoryNodeCommand.class.getName(), "--listen", "127.0.0.1:0", "--memory", "16M", "--chunk", "1M",
                "--lock-table", "1M", "--transport", "tcp", "--dir", dir.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder log = new StringBuilder();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String line;
        while ((line = out.readLine()) != null) {
            log.append(line).append('\n');
            if (line.endsWith(" ready")) {
                Thread drain = new Thread(() -> {
                    try {
                        String l;
                        while ((l = out.readLine()) != null) {
                            synchronized (log) {
                                log.append(l).append('\n');
                            }
                        }
                    } catch (IOException ignored) {
                        // the process ended
                    }
                });
                drain.setDaemon(true);
                drain.start();
                return new Node(p, line, log);
            }
            if (System.nanoTime() > deadline) {
                break;
            }
        }
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new AssertionError("memory node did not get ready: " + log);
    }

    private static void stop(Node n) throws InterruptedException {
        if (n != null) {
            n.process().destroy(); // SIGTERM: the shutdown hook closes the memory node
            if (!n.process().waitFor(20, TimeUnit.SECONDS)) {
                n.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError("memory node did not stop on SIGTERM: " + n.log());
            }
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 30 s: " + what);
            }
            Thread.sleep(10);
        }
    }

    @Test
    void memoryNodeOneWithoutZkRefusesToStart() {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int code;
        try {
            code = new CommandLine(new MemoryNodeCommand()).execute("--id", "1", "--listen", "127.0.0.1:0", "--dir", dir.toString());
        } finally {
            System.setErr(saved);
        }
        String text = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, code, text);
        assertTrue(text.contains("dmtree mn: memory node 1 needs --zk") && text.contains("zk=HOST:PORT")
                && text.contains("--zk none"), text);
    }

    @Test
    void clusterWithMemoryNodeZerosZooKeeperFencesALapsedComputeNodeOnEveryMemoryNode() throws Exception {
        Node mn0 = null;
        Node mn1 = null;
        ZooKeeperMembership watcher = null;
        try {
            mn0 = start("--id", "0", "--lease", "2500ms");
            String zk = mn0.zk();
            HostPort.parse("zk=", zk);
            String secretFile = group(Pattern.compile(" secret=(\\S+)"), mn0.ready());
            secret = ClusterSecret.load(Path.of(secretFile));
            mn1 = start("--id", "1", "--zk", zk, "--secret", secretFile);
            assertTrue(!mn1.ready().contains(" zk=") || mn1.zk().equals(zk), mn1.ready());

            watcher = ZooKeeperMembership.connect(ZooKeeperMembershipOptions.of(zk).withMembership(
                    MembershipOptions.DEFAULTS.withLease(Duration.ofMillis(2500))).withSecret(secret)); // ZooKeeper's ACL wants it
            ZooKeeperMembership w = watcher;
            await("both memory nodes are members", () -> w.view().members(MemberKind.MEMORY_NODE).size() == 2);
            assertEquals("2500", watcher.configuration().get(Coordination.LEASE_MS).orElse(null));

            for (Node n : List.of(mn0, mn1)) {
                RegionDescription d = describe(HostPort.parse("address", n.address()));
                assertEquals("zk:" + zk + "/dmtree", d.coordination());
            }

            try (FenceBook book = new ZooKeeperFenceBook(watcher)) {
                Lease cn = watcher.join(MemberKind.COMPUTE_NODE, 3, "test", Duration.ofSeconds(20));
                Member m = cn.member();
                assertEquals(null, hello(mn1, 3, m.epoch()), "a live compute node is served");
                cn.close(); // the lease ends: every memory node hears it
                await("every memory node fenced and acknowledged " + m, () -> {
                    FenceBook.FenceRecord r = book.record(m);
                    return r != null && r.fencedByAll(2);
                });
                for (Node n : List.of(mn0, mn1)) {
                    ErrorReply refused = hello(n, 3, m.epoch());
                    assertTrue(refused != null && refused.code() == ErrorCode.FENCED, "HELLO of the fenced epoch: " + refused);
                    assertEquals(null, hello(n, 3, m.epoch() + 1000), "a newer incarnation is served");
                    assertEquals(null, hello(n, 4, m.epoch()), "another compute node is served");
                }
                Member unknown = new Member(new MemberId(MemberKind.COMPUTE_NODE, 5), m.epoch() + 1, "x");
                book.requestFence(unknown); // a request made by someone else reaches both too
                await("every memory node acknowledged " + unknown, () -> book.record(unknown).fencedByAll(2));
            }
            watcher.close();
            watcher = null;
            stop(mn1);
            mn1 = null;
            stop(mn0);
            String[] hp = zk.split(":");
            Node stopped = mn0;
            mn0 = null;
            assertThrows(IOException.class, () -> new Socket(hp[0], Integer.parseInt(hp[1])).close(),
                    "memory node 0's ZooKeeper still listens after it stopped: " + stopped.log());
        } finally {
            if (watcher != null) {
                watcher.close();
            }
            stop(mn1);
            stop(mn0);
        }
    }

    /** The cluster secret memory node 0 wrote; every connection proves it. */
    private ClusterSecret secret;

    private RegionDescription describe(InetSocketAddress at) throws Exception {
        try (FrameChannel ch = FrameChannel.open(at, HelloFrame.SERVICE_CONTROL, 1 << 20, 10_000, secret)) {
            ch.write(new FrameWriter().begin(FrameHeader.TYPE_DESCRIBE, 0, 1).finish());
            ch.readWithTimeout(10_000);
            FrameReader r = new FrameReader().wrap(ch.frame(), 0, ch.frameLength());
            assertEquals(FrameHeader.TYPE_DESCRIBE | FrameHeader.REPLY_BIT, r.type());
            return RegionDescription.decode(r);
        }
    }

    /** A verbs HELLO as compute node {@code cn} at {@code epoch}: null when accepted, else the refusal. */
    private ErrorReply hello(Node n, int cn, long epoch) throws Exception {
        try (FrameChannel ch = FrameChannel.open(HostPort.parse("address", n.address()), HelloFrame.SERVICE_VERBS, 1 << 16,
                10_000, secret, cn, epoch)) {
            return null;
        } catch (ClientHandshake.RefusedException e) {
            return new ErrorReply(e.code(), e.getMessage());
        }
    }
}
