package io.dmtree.cn.carrier.rdma;

/**
 * The C layout of libibverbs' {@code struct ibv_send_wr} and {@code struct ibv_sge} on 64-bit
 * Linux, as far as one-sided verbs use them. DiSNI 2.1 serialises work requests into this layout
 * itself but writes only the {@code wr.rdma} member of the union; the {@code wr.atomic} member
 * (compare-add, swap, and its own rkey at 64) is written by {@link AtomicFieldsEncoder}. A test
 * compiles a C program against the installed {@code <infiniband/verbs.h>} and checks every
 * constant here.
 *
 * <pre>
 * struct ibv_send_wr (DiSNI lays them out 72 bytes apart; the fields below all lie in [0, 72)):
 *   0                   8                   16                  24        28        32        36        40
 *   +-------------------+-------------------+-------------------+---------+---------+---------+---------+
 *   | wr_id             | next              | sg_list           | num_sge | opcode  |send_flgs| imm_data|
 *   +-------------------+-------------------+-------------------+---------+---------+---------+---------+
 *  40 wr.rdma  : | remote_addr (8) | rkey (4) | pad (4) |
 *  40 wr.atomic: | remote_addr (8) | compare_add (8) | swap (8) | rkey (4) | pad (4) |  ends at 72
 *
 * struct ibv_sge:
 *   0                   8         12        16
 *   +-------------------+---------+---------+
 *   | addr              | length  | lkey    |
 *   +-------------------+---------+---------+
 * </pre>
 */
public final class SendWorkRequestLayout {
    public static final int WR_ID_OFFSET = 0;
    public static final int NEXT_OFFSET = 8;
    public static final int SG_LIST_OFFSET = 16;
    public static final int NUM_SGE_OFFSET = 24;
    public static final int OPCODE_OFFSET = 28;
    public static final int SEND_FLAGS_OFFSET = 32;
    public static final int IMM_DATA_OFFSET = 36;
    public static final int WR_UNION_OFFSET = 40;

    public static final int RDMA_REMOTE_ADDR_OFFSET = 40;
    public static final int RDMA_RKEY_OFFSET = 48;

    public static final int ATOMIC_REMOTE_ADDR_OFFSET = 40;
    public static final int ATOMIC_COMPARE_ADD_OFFSET = 48;
    public static final int ATOMIC_SWAP_OFFSET = 56;
    public static final int ATOMIC_RKEY_OFFSET = 64;
    /** First byte after the atomic member: every field an atomic work request needs lies below it. */
    public static final int ATOMIC_END = 72;

    public static final int SGE_ADDR_OFFSET = 0;
    public static final int SGE_LENGTH_OFFSET = 8;
    public static final int SGE_LKEY_OFFSET = 12;
    public static final int SGE_BYTES = 16;

    /** {@code enum ibv_wr_opcode} values. */
    public static final int IBV_WR_RDMA_WRITE = 0;
    public static final int IBV_WR_SEND = 2;
    public static final int IBV_WR_RDMA_READ = 4;
    public static final int IBV_WR_ATOMIC_CMP_AND_SWP = 5;
    public static final int IBV_WR_ATOMIC_FETCH_AND_ADD = 6;

    /** {@code enum ibv_send_flags} values. */
    public static final int IBV_SEND_FENCE = 1;
    public static final int IBV_SEND_SIGNALED = 1 << 1;

    private SendWorkRequestLayout() {
    }
}
