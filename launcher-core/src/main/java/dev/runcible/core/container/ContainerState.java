package dev.runcible.core.container;

/** Where a container is in its life, derived from its directory each time it is asked. */
public enum ContainerState {
    /** Recorded, not started (or starting). */
    CREATED,
    RUNNING,
    /** Finished; the exit code is known. */
    EXITED,
    /** Its supervisor vanished without recording an exit code (machine reboot, kill -9 of the shim). */
    DEAD;

    public String display() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
