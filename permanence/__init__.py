"""Server-side pieces shared by the Rasa server, the action server and the desk."""
