"""The live account: state from the user data stream (pure) and the stream shell that feeds it."""
