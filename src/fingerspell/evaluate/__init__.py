"""fingerspell.evaluate"""
