package io.dmtree.core.lock;

/**
 * What {@link LockDesign#recover} may use: the recovering member's own client of the design (the
 * one {@link LockDesign#newClient} built for that compute node, with its verbs, messaging,
 * threads and {@link MemberLiveness}) and where locks live, the {@link LockTable} that every
 * memory node holds at the same offset. Recovery may scan that table on every memory node.
 */
public interface RecoveryContext {
    /** The recovering compute node's client of the design being recovered (its {@link LockClient#designClient}). */
    LockClient client();

    /** The lock table, the same on every memory node. */
    LockTable lockTable();

    /** Memory nodes whose lock tables are scanned, ids {@code 0 .. n-1}. */
    int memoryNodeCount();

    static RecoveryContext of(LockClient client, LockTable table, int memoryNodeCount) {
        if (client == null || table == null || memoryNodeCount < 1) {
            throw new IllegalArgumentException("recovery needs a client, a lock table and at least one memory node");
        }
        LockClient design = client.designClient();
        return new RecoveryContext() {
            @Override
            public LockClient client() {
                return design;
            }

            @Override
            public LockTable lockTable() {
                return table;
            }

            @Override
            public int memoryNodeCount() {
                return memoryNodeCount;
            }
        };
    }
}
