package io.dmtree.workloads.cn;

import io.dmtree.cn.EmbeddedCluster;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code --serve} line protocol against an embedded index: every command's answer, both key
 * kinds (decimal longs, padded text), writes seen by a second compute node, and bad commands
 * answered with an error while the shell goes on.
 */
class IndexShellTest {
    private static String[] run(EmbeddedCluster cluster, int cn, String script) throws Exception {
        StringWriter text = new StringWriter();
        boolean quit = new IndexShell(cluster.index(cn), new PrintWriter(text)).serve(new BufferedReader(new StringReader(script)));
        String[] lines = text.toString().split("\n");
        assertEquals(script.contains("quit"), quit);
        return lines;
    }

    @Test
    void longKeysAndValues() throws Exception {
        try (EmbeddedCluster c = EmbeddedCluster.builder().computeNodes(2).regionBytes(64L << 20).start()) {
            String[] out = run(c, 0, String.join("\n", "put 5 50", "put -3 -30", "put 9 90", "get 5", "get 6", "",
                    "# a comment", "scan -10 2", "delete 9", "delete 9", "put x 1", "get", "frobnicate", "scan 0 -1",
                    "check", "stats", "quit", "get 5"));
            assertEquals(String.join("\n", "ok", "ok", "ok", "50", "absent", "-3 -30", "5 50", "end 2", "deleted", "absent",
                    "error: key 'x' is not a decimal long", "error: usage: get KEY",
                    "error: unknown command 'frobnicate' (help lists them)", "error: count must be in [0, 1000000]: -1"),
                    String.join("\n", java.util.Arrays.copyOf(out, 14)));
            assertTrue(out[14].startsWith("tree ok"), out[14]);
            assertTrue(out[15].startsWith("verbs "), out[15]);
            assertEquals("bye", out[16]);
            assertEquals(17, out.length, "nothing after quit");
            String[] other = run(c, 1, "get -3\nget 9\n");
            assertEquals("-30", other[0]);
            assertEquals("absent", other[1]);
        }
    }

    @Test
    void textKeysAndValues() throws Exception {
        try (EmbeddedCluster c = EmbeddedCluster.builder().keyBytes(6).valueBytes(12).regionBytes(64L << 20).start()) {
            String[] out = run(c, 0, String.join("\n", "put bob builder", "put alice wonderland", "put carol x",
                    "get alice", "scan b 5", "put toolongkey v", "put k waytoolongvalue!", "get nobody"));
            assertEquals("ok", out[2]);
            assertEquals("wonderland", out[3]);
            assertEquals("bob builder", out[4]);
            assertEquals("carol x", out[5]);
            assertEquals("end 2", out[6]);
            assertEquals("error: key of 10 bytes is wider than the index's 6", out[7]);
            assertEquals("error: value of 16 bytes is wider than the index's 12", out[8]);
            assertEquals("absent", out[9]);
            assertFalse(String.join("\n", out).contains("Exception"));
        }
    }
}
