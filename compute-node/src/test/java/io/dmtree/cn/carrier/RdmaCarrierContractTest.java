package io.dmtree.cn.carrier;

import io.dmtree.core.carrier.CarrierOptions;
import io.dmtree.mn.carrier.rdma.RdmaSupport;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/**
 * The {@code rdma} carrier against the shared verb semantics, on hosts that can run it (an RDMA
 * device, hardware or soft-RDMA, and libdisni); elsewhere skipped with what is missing.
 */
class RdmaCarrierContractTest extends VerbSemanticsContract {
    @TempDir
    Path dir;

    @BeforeAll
    static void needsRdma() {
        String missing = RdmaSupport.missing();
        Assumptions.assumeTrue(missing == null, () -> "skipped: " + missing);
    }

    @Override
    protected Fixture start() {
        return CarrierFixture.joined("rdma", CONFIG, dir, CarrierOptions.NONE, i -> CarrierOptions.NONE);
    }
}
