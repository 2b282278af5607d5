package dev.runcible.api;

/**
 * Base of every error Runcible reports to a user. Messages name the bad value and say what to do next; the CLI
 * prints the message alone (one line) unless asked for a stack trace.
 */
public class RuncibleException extends Exception {
    public RuncibleException(String message) {
        super(message);
    }

    public RuncibleException(String message, Throwable cause) {
        super(message, cause);
    }
}
