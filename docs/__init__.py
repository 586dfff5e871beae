"""The README's pictures, made from the golden Markdown (`make screenshots`)."""
