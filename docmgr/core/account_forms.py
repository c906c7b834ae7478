"""Forms of the account pages: changing one's password, an administrator's reset.

The rules a password must meet are checked by the operation (core/passwords.py), the same
for the page and the API; these forms only ask for the fields."""
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Mật khẩu hiện tại",
                                     validators=[DataRequired("Nhập mật khẩu hiện tại.")])
    new_password = PasswordField("Mật khẩu mới",
                                 validators=[DataRequired("Nhập mật khẩu mới.")])
    confirm_password = PasswordField("Nhập lại mật khẩu mới", validators=[
        DataRequired("Nhập lại mật khẩu mới.")])


class ResetPasswordForm(FlaskForm):
    # Empty: a random temporary password is made and shown once.
    password = PasswordField("Mật khẩu mới (để trống để tạo mật khẩu tạm thời)")
