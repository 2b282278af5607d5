package dev.runcible.core.container;

import static java.util.Objects.requireNonNull;

import java.util.OptionalInt;

/** A container's record with its current state and, once it has exited, its exit code. */
public record ContainerInfo(ContainerRecord record, ContainerState state, OptionalInt exitCode) {
    public ContainerInfo {
        requireNonNull(record, "record is null");
        requireNonNull(state, "state is null");
        requireNonNull(exitCode, "exitCode is null");
    }

    public boolean isActive() {
        return state == ContainerState.RUNNING || state == ContainerState.CREATED;
    }
}
