package io.dmtree.mn.carrier.rdma;

import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.impl.NatIbvSendWR;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link RdmaAccess} against the installed {@code <infiniband/verbs.h>} (a C program compiled with
 * gcc prints the values), and the facts behind registering per-member windows instead of binding
 * type 2 memory windows: DiSNI 2.1 has no call that allocates or binds a memory window, and
 * {@code ibv_send_wr}'s {@code bind_mw} member lies beyond the 72 bytes DiSNI lays each work
 * request out in, so a bind request cannot be posted through it either. Needs gcc and libibverbs-dev.
 */
class RdmaAccessHeaderTest {
    private static final String HEADER = "/usr/include/infiniband/verbs.h";

    @TempDir
    static Path dir;
    static Map<String, Long> values;

    @BeforeAll
    static void compileAndRun() throws Exception {
        assumeTrue(Files.exists(Path.of(HEADER)), "install libibverbs-dev for " + HEADER);
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/gcc")), "needs gcc");
        Path source = dir.resolve("access.c");
        Files.writeString(source, """
                #include <stddef.h>
                #include <stdio.h>
                #include <infiniband/verbs.h>
                #define P(name, value) printf("%s=%ld\\n", name, (long) (value))
                int main(void) {
                    P("IBV_ACCESS_LOCAL_WRITE", IBV_ACCESS_LOCAL_WRITE);
                    P("IBV_ACCESS_REMOTE_WRITE", IBV_ACCESS_REMOTE_WRITE);
                    P("IBV_ACCESS_REMOTE_READ", IBV_ACCESS_REMOTE_READ);
                    P("IBV_ACCESS_REMOTE_ATOMIC", IBV_ACCESS_REMOTE_ATOMIC);
                    P("IBV_ACCESS_MW_BIND", IBV_ACCESS_MW_BIND);
                    P("IBV_WR_BIND_MW", IBV_WR_BIND_MW);
                    P("IBV_MW_TYPE_2", IBV_MW_TYPE_2);
                    P("bind_mw", offsetof(struct ibv_send_wr, bind_mw));
                    P("sizeof.ibv_send_wr", sizeof(struct ibv_send_wr));
                    return 0;
                }
                """);
        Path program = dir.resolve("access");
        run(List.of("gcc", "-O0", "-o", program.toString(), source.toString()));
        values = new HashMap<>();
        for (String line : run(List.of(program.toString())).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                values.put(line.substring(0, eq).trim(), Long.parseLong(line.substring(eq + 1).trim()));
            }
        }
    }

    private static String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), command + " failed:\n" + out);
        return out;
    }

    @Test
    void accessFlagsMatchTheHeaderAndDiSNI() {
        assertEquals(values.get("IBV_ACCESS_LOCAL_WRITE"), RdmaAccess.IBV_ACCESS_LOCAL_WRITE);
        assertEquals(values.get("IBV_ACCESS_REMOTE_WRITE"), RdmaAccess.IBV_ACCESS_REMOTE_WRITE);
        assertEquals(values.get("IBV_ACCESS_REMOTE_READ"), RdmaAccess.IBV_ACCESS_REMOTE_READ);
        assertEquals(values.get("IBV_ACCESS_REMOTE_ATOMIC"), RdmaAccess.IBV_ACCESS_REMOTE_ATOMIC);
        assertEquals(values.get("IBV_ACCESS_MW_BIND"), RdmaAccess.IBV_ACCESS_MW_BIND);
        assertEquals(IbvMr.IBV_ACCESS_LOCAL_WRITE, RdmaAccess.IBV_ACCESS_LOCAL_WRITE);
        assertEquals(IbvMr.IBV_ACCESS_REMOTE_WRITE, RdmaAccess.IBV_ACCESS_REMOTE_WRITE);
        assertEquals(IbvMr.IBV_ACCESS_REMOTE_READ, RdmaAccess.IBV_ACCESS_REMOTE_READ);
        assertEquals(IbvMr.IBV_ACCESS_REMOTE_ATOMIC, RdmaAccess.IBV_ACCESS_REMOTE_ATOMIC);
        assertEquals(IbvMr.IBV_ACCESS_MW_BIND, RdmaAccess.IBV_ACCESS_MW_BIND);
    }

    @Test
    void diSniCanNeitherAllocateNorBindATypeTwoWindow() {
        assertTrue(values.get("bind_mw") >= NatIbvSendWR.CSIZE, "ibv_send_wr.bind_mw at " + values.get("bind_mw")
                + " lies beyond DiSNI's " + NatIbvSendWR.CSIZE + "-byte work request");
        assertTrue(values.get("sizeof.ibv_send_wr") > NatIbvSendWR.CSIZE);
        for (Class<?> c : new Class<?>[]{com.ibm.disni.verbs.RdmaVerbs.class, com.ibm.disni.verbs.IbvPd.class,
                com.ibm.disni.verbs.IbvQP.class, com.ibm.disni.verbs.IbvContext.class}) {
            for (Method m : c.getMethods()) {
                String n = m.getName().toLowerCase(Locale.ROOT);
                assertTrue(!n.contains("mw") && !n.contains("window") && !n.contains("bind"), c.getName() + "." + m.getName());
            }
        }
    }
}
