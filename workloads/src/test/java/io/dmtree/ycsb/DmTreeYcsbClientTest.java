package io.dmtree.ycsb;

import io.dmtree.core.wire.HostPort;
import io.dmtree.mn.MemoryNodeConfig;
import io.dmtree.mn.control.MemoryNodeOptions;
import io.dmtree.mn.control.MemoryNodeServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import site.ycsb.ByteIterator;
import site.ycsb.DBException;
import site.ycsb.Status;
import site.ycsb.StringByteIterator;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.Vector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The YCSB binding against a memory-node server: the DB operations, and the refusals it promises. */
class DmTreeYcsbClientTest {
    @TempDir
    Path dir;

    @Test
    void readsWritesScansAndRefusesOversizeRecords() throws Exception {
        try (MemoryNodeServer mn = MemoryNodeServer.start(MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0),
                new MemoryNodeConfig(32L << 20, 1L << 20, 64L << 10), "tcp", dir).withMaxFrameBytes(1 << 20))) {
            Properties p = new Properties();
            p.setProperty("dmtree.mn", HostPort.format(mn.address()));
            p.setProperty("dmtree.values", "fixed");
            DmTreeYcsbClient db = new DmTreeYcsbClient();
            db.setProperties(p);
            db.init();
            DmTreeYcsbClient second = new DmTreeYcsbClient();
            second.setProperties(p);
            second.init();
            try {
                for (int i = 0; i < 300; i++) {
                    assertEquals(Status.OK, db.insert("usertable", "user" + i, StringByteIterator.getByteIteratorMap(
                            Map.of("field0", "v" + i))));
                }
                Map<String, ByteIterator> r = new HashMap<>();
                assertEquals(Status.OK, second.read("usertable", "user42", null, r));
                assertEquals("v42", r.get("field0").toString());
                assertEquals(Status.OK, db.update("usertable", "user42", StringByteIterator.getByteIteratorMap(Map.of("field0", "w"))));
                r.clear();
                assertEquals(Status.OK, db.read("usertable", "user42", Set.of("field0"), r));
                assertEquals("w", r.get("field0").toString());
                Vector<HashMap<String, ByteIterator>> rows = new Vector<>();
                assertEquals(Status.OK, db.scan("usertable", "user10", 3, null, rows));
                assertEquals(3, rows.size());
                assertEquals("v10", rows.get(0).get("field0").toString());
                assertEquals("v100", rows.get(1).get("field0").toString(), "string order: user10 < user100 < user101");
                assertEquals(Status.OK, db.delete("usertable", "user7"));
                assertEquals(Status.NOT_FOUND, db.read("usertable", "user7", null, new HashMap<>()));

                Map<String, String> big = new HashMap<>();
                for (int f = 0; f < 10; f++) {
                    big.put("field" + f, "x".repeat(100));
                }
                Status s = db.insert("usertable", "userbig", StringByteIterator.getByteIteratorMap(big));
                assertEquals("REFUSED", s.getName());
                assertTrue(s.getDescription().contains("inline value width"), s.getDescription());
                assertEquals("REFUSED", db.read("usertable", "k".repeat(40), null, new HashMap<>()).getName());

                // an update whose merged record would not fit is refused and leaves the record as it was
                assertEquals(Status.OK, db.insert("usertable", "usermerge", StringByteIterator.getByteIteratorMap(
                        Map.of("field0", "a", "field1", "b"))));
                Status tooBig = db.update("usertable", "usermerge", StringByteIterator.getByteIteratorMap(Map.of("field2", "y".repeat(300))));
                assertEquals("REFUSED", tooBig.getName());
                r.clear();
                assertEquals(Status.OK, db.read("usertable", "usermerge", null, r));
                assertEquals(Set.of("field0", "field1"), r.keySet());
                assertEquals(Status.NOT_FOUND, db.update("usertable", "nouser", StringByteIterator.getByteIteratorMap(Map.of("field0", "z"))));

                // concurrent updates of different fields of one record all land (the merge is atomic)
                Thread[] writers = new Thread[2];
                Throwable[] failed = new Throwable[1];
                for (int t = 0; t < 2; t++) {
                    DmTreeYcsbClient client = t == 0 ? db : second;
                    String field = "field" + t;
                    writers[t] = new Thread(() -> {
                        try {
                            for (int i = 0; i < 500; i++) {
                                Status u = client.update("usertable", "usermerge", StringByteIterator.getByteIteratorMap(
                                        Map.of(field, Integer.toString(i))));
                                if (u != Status.OK) {
                                    throw new AssertionError("update " + u);
                                }
                            }
                        } catch (Throwable e) {
                            failed[0] = e;
                        }
                    });
                    writers[t].start();
                }
                for (Thread w : writers) {
                    w.join(60_000);
                }
                assertEquals(null, failed[0]);
                r.clear();
                assertEquals(Status.OK, db.read("usertable", "usermerge", null, r));
                Map<String, String> last = new HashMap<>();
                r.forEach((f, b) -> last.put(f, b.toString()));
                assertEquals("499", last.get("field0"), "no update of field0 was lost: " + last);
                assertEquals("499", last.get("field1"), "no update of field1 was lost: " + last);
            } finally {
                second.cleanup();
                db.cleanup();
            }
        }
        DmTreeYcsbClient none = new DmTreeYcsbClient();
        Properties bad = new Properties();
        bad.setProperty("dmtree.mn", "127.0.0.1:1");
        bad.setProperty("dmtree.values", "sometimes");
        none.setProperties(bad);
        DBException e = assertThrows(DBException.class, none::init);
        assertTrue(e.getMessage().contains("dmtree.values"), e.getMessage());
        none = new DmTreeYcsbClient();
        none.setProperties(new Properties());
        assertThrows(DBException.class, none::init);
    }

    /** YCSB's default records (10 fields of 100 bytes) in an index of variable-length values, the binding's default. */
    @Test
    void defaultRecordsOfAnySizeAndFieldCount() throws Exception {
        try (MemoryNodeServer mn = MemoryNodeServer.start(MemoryNodeOptions.of(0, new InetSocketAddress("127.0.0.1", 0),
                new MemoryNodeConfig(64L << 20, 1L << 20, 64L << 10), "tcp", dir).withMaxFrameBytes(1 << 20))) {
            Properties p = new Properties();
            p.setProperty("dmtree.mn", HostPort.format(mn.address()));
            DmTreeYcsbClient db = new DmTreeYcsbClient();
            db.setProperties(p);
            db.init();
            try {
                for (int i = 0; i < 200; i++) {
                    Map<String, String> record = new HashMap<>();
                    for (int f = 0; f < 10; f++) {
                        record.put("field" + f, Character.toString('a' + f).repeat(100) + i);
                    }
                    assertEquals(Status.OK, db.insert("usertable", "user" + i, StringByteIterator.getByteIteratorMap(record)));
                }
                Map<String, String> small = Map.of("only", "1");
                assertEquals(Status.OK, db.insert("usertable", "usersmall", StringByteIterator.getByteIteratorMap(small)));
                Map<String, ByteIterator> r = new HashMap<>();
                assertEquals(Status.OK, db.read("usertable", "user42", null, r));
                assertEquals(10, r.size());
                assertEquals("d".repeat(100) + 42, r.get("field3").toString());
                r.clear();
                assertEquals(Status.OK, db.read("usertable", "usersmall", null, r));
                assertEquals("1", r.get("only").toString());
                assertEquals(Status.OK, db.update("usertable", "user42", StringByteIterator.getByteIteratorMap(
                        Map.of("field3", "z".repeat(2000), "field10", "new"))));
                r.clear();
                assertEquals(Status.OK, db.read("usertable", "user42", Set.of("field3", "field10", "field0"), r));
                assertEquals(Set.of("field0", "field3", "field10"), r.keySet(), "the fields asked for");
                assertEquals("z".repeat(2000), r.get("field3").toString());
                assertEquals("a".repeat(100) + 42, r.get("field0").toString());
                Vector<HashMap<String, ByteIterator>> rows = new Vector<>();
                assertEquals(Status.OK, db.scan("usertable", "user10", 3, Set.of("field1"), rows));
                assertEquals(3, rows.size());
                assertEquals("b".repeat(100) + 10, rows.get(0).get("field1").toString());
                assertEquals("b".repeat(100) + 100, rows.get(1).get("field1").toString());
                assertEquals(Status.OK, db.delete("usertable", "user7"));
                assertEquals(Status.NOT_FOUND, db.read("usertable", "user7", null, new HashMap<>()));
                Status tooBig = db.insert("usertable", "userhuge", StringByteIterator.getByteIteratorMap(
                        Map.of("field0", "x".repeat(70_000))));
                assertEquals("REFUSED", tooBig.getName());
                assertTrue(tooBig.getDescription().contains("longest value"), tooBig.getDescription());
            } finally {
                db.cleanup();
            }
        }
    }
}
