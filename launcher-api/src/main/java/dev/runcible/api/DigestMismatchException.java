package dev.runcible.api;

/** Content whose digest or size is not the one its descriptor or store records. */
public class DigestMismatchException extends RuncibleException {
    public DigestMismatchException(String message) {
        super(message);
    }

    public DigestMismatchException(String message, Throwable cause) {
        super(message, cause);
    }
}
