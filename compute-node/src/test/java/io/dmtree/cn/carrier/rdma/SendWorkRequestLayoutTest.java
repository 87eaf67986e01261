package io.dmtree.cn.carrier.rdma;

import com.ibm.disni.verbs.IbvMr;
import com.ibm.disni.verbs.IbvSendWR;
import com.ibm.disni.verbs.impl.NatIbvSendWR;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Checks {@link SendWorkRequestLayout} and {@link AtomicFieldsEncoder} against the installed
 * libibverbs headers: a C program compiled with gcc prints {@code offsetof}/{@code sizeof} and enum
 * values of {@code <infiniband/verbs.h>}, and decodes work requests our encoder wrote through the C
 * struct itself. Needs gcc and the Debian package libibverbs-dev (CI installs both).
 */
class SendWorkRequestLayoutTest {
    private static final String HEADER = "/usr/include/infiniband/verbs.h";

    @TempDir
    static Path dir;
    static Path program;

    @BeforeAll
    static void compile() throws Exception {
        assumeTrue(Files.exists(Path.of(HEADER)), "install libibverbs-dev (apt-get install libibverbs-dev) for " + HEADER);
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/gcc")) || Files.isExecutable(Path.of("/usr/bin/cc")), "needs gcc");
        Path source = dir.resolve("layout.c");
        Files.writeString(source, """
                #include <stddef.h>
                #include <stdio.h>
                #include <stdint.h>
                #include <string.h>
                #include <infiniband/verbs.h>
                #define P(name, value) printf("%s=%ld\\n", name, (long) (value))
                int main(int argc, char **argv) {
                    if (argc == 1) {
                        P("wr_id", offsetof(struct ibv_send_wr, wr_id));
                        P("next", offsetof(struct ibv_send_wr, next));
                        P("sg_list", offsetof(struct ibv_send_wr, sg_list));
                        P("num_sge", offsetof(struct ibv_send_wr, num_sge));
                        P("opcode", offsetof(struct ibv_send_wr, opcode));
                        P("send_flags", offsetof(struct ibv_send_wr, send_flags));
                        P("imm_data", offsetof(struct ibv_send_wr, imm_data));
                        P("wr", offsetof(struct ibv_send_wr, wr));
                        P("rdma.remote_addr", offsetof(struct ibv_send_wr, wr.rdma.remote_addr));
                        P("rdma.rkey", offsetof(struct ibv_send_wr, wr.rdma.rkey));
                        P("atomic.remote_addr", offsetof(struct ibv_send_wr, wr.atomic.remote_addr));
                        P("atomic.compare_add", offsetof(struct ibv_send_wr, wr.atomic.compare_add));
                        P("atomic.swap", offsetof(struct ibv_send_wr, wr.atomic.swap));
                        P("atomic.rkey", offsetof(struct ibv_send_wr, wr.atomic.rkey));
                        P("atomic.end", offsetof(struct ibv_send_wr, wr.atomic.rkey) + sizeof(uint32_t));
                        P("wr.size", sizeof(((struct ibv_send_wr *) 0)->wr));
                        P("sizeof.compare_add", sizeof(((struct ibv_send_wr *) 0)->wr.atomic.compare_add));
                        P("sge.addr", offsetof(struct ibv_sge, addr));
                        P("sge.length", offsetof(struct ibv_sge, length));
                        P("sge.lkey", offsetof(struct ibv_sge, lkey));
                        P("sge.size", sizeof(struct ibv_sge));
                        P("IBV_WR_RDMA_WRITE", IBV_WR_RDMA_WRITE);
                        P("IBV_WR_SEND", IBV_WR_SEND);
                        P("IBV_WR_RDMA_READ", IBV_WR_RDMA_READ);
                        P("IBV_WR_ATOMIC_CMP_AND_SWP", IBV_WR_ATOMIC_CMP_AND_SWP);
                        P("IBV_WR_ATOMIC_FETCH_AND_ADD", IBV_WR_ATOMIC_FETCH_AND_ADD);
                        P("IBV_SEND_FENCE", IBV_SEND_FENCE);
                        P("IBV_SEND_SIGNALED", IBV_SEND_SIGNALED);
                        P("IBV_ACCESS_LOCAL_WRITE", IBV_ACCESS_LOCAL_WRITE);
                        P("IBV_ACCESS_REMOTE_WRITE", IBV_ACCESS_REMOTE_WRITE);
                        P("IBV_ACCESS_REMOTE_READ", IBV_ACCESS_REMOTE_READ);
                        P("IBV_ACCESS_REMOTE_ATOMIC", IBV_ACCESS_REMOTE_ATOMIC);
                        return 0;
                    }
                    /* decode a work request our encoder wrote, through the C struct */
                    struct ibv_send_wr wr;
                    memset(&wr, 0, sizeof wr);
                    FILE *f = fopen(argv[1], "rb");
                    if (!f || fread(&wr, 1, 72, f) != 72) { return 3; }
                    fclose(f);
                    printf("opcode=%d\\n", (int) wr.opcode);
                    printf("remote_addr=%llu\\n", (unsigned long long) wr.wr.atomic.remote_addr);
                    printf("compare_add=%llu\\n", (unsigned long long) wr.wr.atomic.compare_add);
                    printf("swap=%llu\\n", (unsigned long long) wr.wr.atomic.swap);
                    printf("rkey=%u\\n", wr.wr.atomic.rkey);
                    printf("wr_id=%llu\\n", (unsigned long long) wr.wr_id);
                    printf("send_flags=%u\\n", wr.send_flags);
                    return 0;
                }
                """);
        program = dir.resolve("layout");
        run(List.of("gcc", "-O0", "-o", program.toString(), source.toString()));
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), command + " failed:\n" + out);
        return out;
    }

    private static Map<String, Long> values(String out) {
        Map<String, Long> m = new HashMap<>();
        for (String line : out.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq).trim(), Long.parseUnsignedLong(line.substring(eq + 1).trim()));
            }
        }
        return m;
    }

    @Test
    void layoutConstantsMatchTheHeaders() throws Exception {
        Map<String, Long> c = values(run(List.of(program.toString())));
        assertEquals(c.get("wr_id"), SendWorkRequestLayout.WR_ID_OFFSET);
        assertEquals(c.get("next"), SendWorkRequestLayout.NEXT_OFFSET);
        assertEquals(c.get("sg_list"), SendWorkRequestLayout.SG_LIST_OFFSET);
        assertEquals(c.get("num_sge"), SendWorkRequestLayout.NUM_SGE_OFFSET);
        assertEquals(c.get("opcode"), SendWorkRequestLayout.OPCODE_OFFSET);
        assertEquals(c.get("send_flags"), SendWorkRequestLayout.SEND_FLAGS_OFFSET);
        assertEquals(c.get("imm_data"), SendWorkRequestLayout.IMM_DATA_OFFSET);
        assertEquals(c.get("wr"), SendWorkRequestLayout.WR_UNION_OFFSET);
        assertEquals(c.get("rdma.remote_addr"), SendWorkRequestLayout.RDMA_REMOTE_ADDR_OFFSET);
        assertEquals(c.get("rdma.rkey"), SendWorkRequestLayout.RDMA_RKEY_OFFSET);
        assertEquals(c.get("atomic.remote_addr"), SendWorkRequestLayout.ATOMIC_REMOTE_ADDR_OFFSET);
        assertEquals(c.get("atomic.compare_add"), SendWorkRequestLayout.ATOMIC_COMPARE_ADD_OFFSET);
        assertEquals(c.get("atomic.swap"), SendWorkRequestLayout.ATOMIC_SWAP_OFFSET);
        assertEquals(c.get("atomic.rkey"), SendWorkRequestLayout.ATOMIC_RKEY_OFFSET);
        assertEquals(8L, c.get("sizeof.compare_add"));
        assertTrue(c.get("atomic.end") <= SendWorkRequestLayout.ATOMIC_END, "atomic member ends inside ATOMIC_END");
        assertEquals(SendWorkRequestLayout.ATOMIC_END, c.get("wr") + c.get("wr.size"), "the wr union ends at ATOMIC_END");
        assertEquals(c.get("sge.addr"), SendWorkRequestLayout.SGE_ADDR_OFFSET);
        assertEquals(c.get("sge.length"), SendWorkRequestLayout.SGE_LENGTH_OFFSET);
        assertEquals(c.get("sge.lkey"), SendWorkRequestLayout.SGE_LKEY_OFFSET);
        assertEquals(c.get("sge.size"), SendWorkRequestLayout.SGE_BYTES);
        assertEquals(c.get("IBV_WR_RDMA_WRITE"), SendWorkRequestLayout.IBV_WR_RDMA_WRITE);
        assertEquals(c.get("IBV_WR_SEND"), SendWorkRequestLayout.IBV_WR_SEND);
        assertEquals(c.get("IBV_WR_RDMA_READ"), SendWorkRequestLayout.IBV_WR_RDMA_READ);
        assertEquals(c.get("IBV_WR_ATOMIC_CMP_AND_SWP"), SendWorkRequestLayout.IBV_WR_ATOMIC_CMP_AND_SWP);
        assertEquals(c.get("IBV_WR_ATOMIC_FETCH_AND_ADD"), SendWorkRequestLayout.IBV_WR_ATOMIC_FETCH_AND_ADD);
        assertEquals(c.get("IBV_SEND_FENCE"), SendWorkRequestLayout.IBV_SEND_FENCE);
        assertEquals(c.get("IBV_SEND_SIGNALED"), SendWorkRequestLayout.IBV_SEND_SIGNALED);

        // DiSNI's own constants agree with the header where DiSNI writes, and its 72-byte stride holds the atomic member
        assertEquals(c.get("send_flags"), NatIbvSendWR.SENDFLAGS_OFFSET);
        assertEquals(c.get("rdma.remote_addr"), NatIbvSendWR.REMOTEADDR_OFFSET);
        assertEquals(c.get("rdma.rkey"), NatIbvSendWR.RKEY_OFFSET);
        assertTrue(NatIbvSendWR.CSIZE >= SendWorkRequestLayout.ATOMIC_END, "DiSNI's work request slot holds the atomic member");
        assertEquals(c.get("IBV_WR_ATOMIC_CMP_AND_SWP"), IbvSendWR.IBV_WR_ATOMIC_CMP_AND_SWP);
        assertEquals(c.get("IBV_WR_ATOMIC_FETCH_AND_ADD"), IbvSendWR.IBV_WR_ATOMIC_FETCH_AND_ADD);
        assertEquals(c.get("IBV_ACCESS_REMOTE_ATOMIC"), IbvMr.IBV_ACCESS_REMOTE_ATOMIC);
        assertEquals(c.get("IBV_ACCESS_REMOTE_READ"), IbvMr.IBV_ACCESS_REMOTE_READ);
        assertEquals(c.get("IBV_ACCESS_REMOTE_WRITE"), IbvMr.IBV_ACCESS_REMOTE_WRITE);
        assertEquals(c.get("IBV_ACCESS_LOCAL_WRITE"), IbvMr.IBV_ACCESS_LOCAL_WRITE);
    }

    @Test
    void theCStructReadsBackWhatTheEncoderWrote() throws Exception {
        long remote = 0x00007F12_3456_7890L & ~7L;
        checkDecoded(wr -> AtomicFieldsEncoder.compareAndSwap(wr, 0, remote, 0xCAFEF00D, 0x1122334455667788L, 0x8877665544332211L),
                SendWorkRequestLayout.IBV_WR_ATOMIC_CMP_AND_SWP, remote, 0x1122334455667788L, 0x8877665544332211L, 0xCAFEF00DL);
        checkDecoded(wr -> AtomicFieldsEncoder.fetchAndAdd(wr, 0, remote + 8, 77, -1L),
                SendWorkRequestLayout.IBV_WR_ATOMIC_FETCH_AND_ADD, remote + 8, -1L, 0L, 77L);
    }

    private void checkDecoded(java.util.function.Consumer<UnsafeBuffer> encode, int opcode, long remote, long compareAdd,
                              long swap, long rkey) throws Exception {
        UnsafeBuffer wr = new UnsafeBuffer(new byte[SendWorkRequestLayout.ATOMIC_END]);
        // what DiSNI writes before us: wr_id and flags, plus its rdma rkey where compare_add goes
        wr.putLong(SendWorkRequestLayout.WR_ID_OFFSET, 4242L, java.nio.ByteOrder.nativeOrder());
        wr.putInt(SendWorkRequestLayout.SEND_FLAGS_OFFSET, SendWorkRequestLayout.IBV_SEND_SIGNALED, java.nio.ByteOrder.nativeOrder());
        wr.putInt(NatIbvSendWR.RKEY_OFFSET, 0x0BAD0BAD, java.nio.ByteOrder.nativeOrder());
        encode.accept(wr);
        Path bytes = dir.resolve("wr-" + opcode + ".bin");
        Files.write(bytes, wr.byteArray());
        Map<String, Long> d = values(run(List.of(program.toString(), bytes.toString())));
        assertEquals(opcode, d.get("opcode"));
        assertEquals(remote, d.get("remote_addr"));
        assertEquals(compareAdd, d.get("compare_add"));
        assertEquals(swap, d.get("swap"));
        assertEquals(rkey, d.get("rkey"));
        assertEquals(4242L, d.get("wr_id"), "the encoder leaves DiSNI's fields alone");
        assertEquals((long) SendWorkRequestLayout.IBV_SEND_SIGNALED, d.get("send_flags"));
    }
}
