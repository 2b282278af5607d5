package dev.runcible.api;

/** An image reference, digest or name that does not follow the naming rules. */
public class InvalidReferenceException extends RuncibleException {
    public InvalidReferenceException(String message) {
        super(message);
    }

    public InvalidReferenceException(String message, Throwable cause) {
        super(message, cause);
    }
}
