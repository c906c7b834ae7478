"""Forms of the shared pages. Flask-WTF gives every form its CSRF token."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    username = StringField("Tên đăng nhập", validators=[DataRequired("Nhập tên đăng nhập."),
                                                         Length(max=80)])
    password = PasswordField("Mật khẩu", validators=[DataRequired("Nhập mật khẩu.")])
    remember = BooleanField("Ghi nhớ đăng nhập trên máy này")
