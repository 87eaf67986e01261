package io.dmtree.mn;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code dmtree mn}'s connection-limit and membership flags: a bad value exits 2 with a line naming the flag and why. */
class MemoryNodeCommandTest {
    @TempDir
    Path dir;

    private record Run(int code, String err) {
    }

    private Run run(String... args) {
        PrintStream saved = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            String[] all = new String[args.length + 2];
            all[0] = "--dir";
            all[1] = dir.toString();
            System.arraycopy(args, 0, all, 2, args.length);
            int code = new CommandLine(new MemoryNodeCommand()).execute(all);
            return new Run(code, err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(saved);
        }
    }

    private void refused(String flag, String value, String because) {
        Run r = run(flag, value);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("dmtree mn: " + flag) && r.err().contains(because), flag + " " + value + ": " + r.err());
    }

    @Test
    void badLimitValuesAreRefusedWithTheFlagAndTheReason() {
        refused("--idle-timeout", "soon", "not a duration");
        refused("--hello-timeout", "0", "HELLO timeout must be positive");
        refused("--event-loops", "0", "event loops must be in [1, 64]");
        refused("--blocking-workers", "5000", "blocking workers must be in [1, 1024]");
        refused("--max-connections", "0", "connection limit must be positive");
        refused("--hello-buffer", "16", "buffer before HELLO must be in");
        refused("--session-buffer", "1K", "session buffer must be at least the buffer before HELLO");
        refused("--keepalive", "1500ms", "whole seconds");
        Run r = run("--receive-budget", "1M");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("receive budget of 1048576 bytes cannot hold one frame"), r.err());
        r = run("--control-max-frame", "1K");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("control frame limit must be at least 4 KiB"), r.err());
    }

    @Test
    void badMembershipFlagsAreRefusedWithTheFlagAndTheReason() {
        refused("--lease", "soon", "not a duration");
        refused("--lease", "11m", "outside [1 ms, 10 min]");
        refused("--zk", "localhost", "is not host:port");
        Run r = run("--zk", "127.0.0.1:2181", "--zk-listen", "127.0.0.1:0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--zk-listen is for memory node 0's own ZooKeeper"), r.err());
        r = run("--zk", "none", "--lease", "1s");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--lease needs membership"), r.err());
        r = run("--zk", "127.0.0.1:2181/not/ok/", "--id", "1");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--zk: ZooKeeper root"), r.err());
        r = run("--id", "2", "--zk-listen", "127.0.0.1:0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("memory node 2 needs --zk"), r.err());
    }

    @Test
    void durationsParseWithUnits() {
        assertEquals(500, TimeSpan.parseMillis("500ms"));
        assertEquals(5000, TimeSpan.parseMillis("5s"));
        assertEquals(900_000, TimeSpan.parseMillis("15m"));
        assertEquals(3_600_000, TimeSpan.parseMillis("1h"));
        assertEquals(250, TimeSpan.parseMillis("250"));
        assertEquals("15m", TimeSpan.format(900_000));
        assertEquals("1500ms", TimeSpan.format(1500));
    }

    @Test
    void badSecretFlagsAreRefusedWithTheFlagAndTheReason() throws Exception {
        Run r = run("--id", "1", "--zk", "none");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("memory node 1 needs --secret") && r.err().contains("secret=PATH")
                && r.err().contains("--secret none"), r.err());
        r = run("--secret", dir.resolve("missing").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--secret: the cluster secret file") && r.err().contains("does not exist"), r.err());
        Path open = dir.resolve("open.secret");
        io.dmtree.core.wire.ClusterSecret.generate().store(open);
        java.nio.file.Files.setPosixFilePermissions(open, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        r = run("--secret", open.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("may be read or written by others") && r.err().contains("chmod 600"), r.err());
        Path junk = dir.resolve("junk.secret");
        java.nio.file.Files.writeString(junk, "not hex");
        java.nio.file.Files.setPosixFilePermissions(junk, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        r = run("--secret", junk.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("is not a cluster secret"), r.err());
    }
}
