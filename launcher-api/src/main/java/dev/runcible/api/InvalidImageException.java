package dev.runcible.api;

/** Image metadata (tag file, manifest, image config) that cannot be parsed or is inconsistent. */
public class InvalidImageException extends RuncibleException {
    public InvalidImageException(String message) {
        super(message);
    }

    public InvalidImageException(String message, Throwable cause) {
        super(message, cause);
    }
}
