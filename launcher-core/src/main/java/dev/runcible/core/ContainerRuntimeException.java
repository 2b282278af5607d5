package dev.runcible.core;

import dev.runcible.api.RuncibleException;

/**
 * The node could not do what a launch needs: a mount, runc, a cgroup. {@link #exitCode()} follows docker: 125 for
 * a failure of the launcher itself, 126 when the command cannot be invoked, 127 when it cannot be found.
 */
public class ContainerRuntimeException extends RuncibleException {
    private final int exitCode;

    public ContainerRuntimeException(String message) {
        this(message, 125);
    }

    public ContainerRuntimeException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    public ContainerRuntimeException(String message, Throwable cause) {
        super(message, cause);
        this.exitCode = 125;
    }

    public int exitCode() {
        return exitCode;
    }
}
