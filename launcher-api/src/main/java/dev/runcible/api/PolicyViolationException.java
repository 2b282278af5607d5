package dev.runcible.api;

/** A request that configuration forbids, such as an image outside the allow-list. */
public class PolicyViolationException extends RuncibleException {
    public PolicyViolationException(String message) {
        super(message);
    }

    public PolicyViolationException(String message, Throwable cause) {
        super(message, cause);
    }
}
