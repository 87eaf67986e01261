package io.dmtree.workloads.ycsb;

/** The operations of the YCSB core workloads. */
public enum OperationType {
    /** Get one record. */
    READ,
    /** Overwrite one existing record's value. */
    UPDATE,
    /** Add a new record. */
    INSERT,
    /** Read up to a scan length of records in key order, from a record's key. */
    SCAN,
    /** Read one record, then overwrite its value (two operations, timed together). */
    READ_MODIFY_WRITE;

    private static final OperationType[] VALUES = values();

    public static OperationType ofCode(int code) {
        return VALUES[code];
    }

    public byte code() {
        return (byte) ordinal();
    }
}
