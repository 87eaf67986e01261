package io.dmtree.core.lock;

/** Lock modes: shared holders may overlap, an exclusive holder holds alone. */
public enum LockMode {
    SHARED, EXCLUSIVE;

    public boolean compatibleWith(LockMode other) {
        return this == SHARED && other == SHARED;
    }
}
