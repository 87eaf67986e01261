package io.dmtree.workloads.cli;

import io.dmtree.core.wire.HostPort;
import io.dmtree.lock.LockDesigns;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import io.dmtree.ycsb.DmTreeYcsbClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import site.ycsb.ByteIterator;
import site.ycsb.Status;
import site.ycsb.StringByteIterator;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code dmtree cn} and the YCSB binding started with their defaults work on one cluster,
 * whichever of them created the index: each takes the widths and lock design the index has.
 */
class SharedClusterTest {
    @TempDir
    Path dir;

    private MemoryNodeServer start() {
        return MemoryNodeServer.start(MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0),
                new MemoryNodeConfig(32L << 20, 1L << 20, 64L << 10), "tcp", dir));
    }

    private static DmTreeYcsbClient binding(MemoryNodeServer mn) throws Exception {
        return binding(mn, null);
    }

    private static DmTreeYcsbClient binding(MemoryNodeServer mn, String values) throws Exception {
        Properties p = new Properties();
        p.setProperty("dmtree.mn", HostPort.format(mn.address()));
        if (values != null) {
            p.setProperty("dmtree.values", values);
        }
        DmTreeYcsbClient db = new DmTreeYcsbClient();
        db.setProperties(p);
        db.init();
        return db;
    }

    private static CliRun runComputeNode(MemoryNodeServer mn) {
        return CliRun.of("cn", "--mn", HostPort.format(mn.address()), "-w", "A", "-r", "300", "-n", "2000", "-t", "2",
                "--check", "--timeout", "10000");
    }

    @Test
    void theBindingJoinsAnIndexMadeByTheComputeNodeCommandWithItsWidthsAndLock() throws Exception {
        try (MemoryNodeServer mn = start()) {
            CliRun cn = runComputeNode(mn);
            assertEquals(0, cn.exitCode(), cn.out() + cn.err());
            assertTrue(cn.out().contains("dmtree " + LockDesigns.defaultName()), cn.out());
            DmTreeYcsbClient db = binding(mn);
            try {
                Status s = db.insert("usertable", "user1", StringByteIterator.getByteIteratorMap(Map.of("field0", "v")));
                assertEquals("REFUSED", s.getName(), "an 8-byte-value index has no room for a YCSB record");
                assertTrue(s.getDescription().contains("value width"), s.getDescription());
            } finally {
                db.cleanup();
            }
        }
    }

    @Test
    void theComputeNodeCommandRunsOnAnIndexMadeByTheBinding() throws Exception {
        try (MemoryNodeServer mn = start()) {
            DmTreeYcsbClient db = binding(mn, "fixed");
            try {
                assertEquals(Status.OK, db.insert("usertable", "user1", StringByteIterator.getByteIteratorMap(Map.of("field0", "v1"))));
                CliRun cn = runComputeNode(mn);
                assertEquals(0, cn.exitCode(), cn.out() + cn.err());
                assertTrue(cn.out().contains("32-byte keys, 256-byte values"), cn.out());
                assertTrue(cn.out().contains("dmtree " + LockDesigns.defaultName()), cn.out());
                Map<String, ByteIterator> r = new HashMap<>();
                assertEquals(Status.OK, db.read("usertable", "user1", null, r));
                assertEquals("v1", r.get("field0").toString());
            } finally {
                db.cleanup();
            }
        }
    }

    /** The binding's default index stores variable-length values, which the compute node command's workloads cannot use: it says so. */
    @Test
    void theComputeNodeCommandRefusesAnIndexOfVariableLengthValuesClearly() throws Exception {
        try (MemoryNodeServer mn = start()) {
            DmTreeYcsbClient db = binding(mn);
            try {
                assertEquals(Status.OK, db.insert("usertable", "user1", StringByteIterator.getByteIteratorMap(Map.of("field0", "v1"))));
                CliRun cn = runComputeNode(mn);
                assertEquals(1, cn.exitCode(), cn.out() + cn.err());
                assertTrue(cn.err().contains("variable-length values"), cn.out() + cn.err());
            } finally {
                db.cleanup();
            }
        }
    }
}
