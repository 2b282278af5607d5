package dev.runcible.api;

/** The store or registry has no image under the given reference. */
public class ImageNotFoundException extends RuncibleException {
    public ImageNotFoundException(String message) {
        super(message);
    }

    public ImageNotFoundException(String message, Throwable cause) {
        super(message, cause);
    }
}
