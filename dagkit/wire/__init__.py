"""What travels: request_data, workflow bodies and multipart, to and from the model."""
