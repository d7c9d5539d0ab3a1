"""fingerspell.hands"""
