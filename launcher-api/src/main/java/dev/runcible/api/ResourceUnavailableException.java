package dev.runcible.api;

/** A resource that cannot be read: missing file, truncated layer, failed transfer. */
public class ResourceUnavailableException extends RuncibleException {
    public ResourceUnavailableException(String message) {
        super(message);
    }

    public ResourceUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
